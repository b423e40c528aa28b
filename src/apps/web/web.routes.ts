/**
 * The browser front end: the Vite build of `web/` (web/dist: index.html, embed.html and the
 * hashed bundles under `/assets/`). The app is one page at `/` with hash routing, so no
 * catch-all route is needed: only GET/HEAD routes for what exists are registered
 * (`wildcard: false`); a catch-all `GET /*` would make every unknown path "known" to the 405
 * shadow router in app.ts.
 *
 * `/embed/{id}` serves the bare player page, the one page other sites may frame: its CSP's
 * frame-ancestors come from EMBED_FRAME_ANCESTORS; every other answer says `'none'` (app.ts).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import { Type } from "@sinclair/typebox";
import type { App } from "../../lib/app.types.js";

/** web/dist at the repository root: three levels up from both src/apps/web and dist/apps/web. */
export const WEB_DIST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../web/dist");

/** Hashed file names change with their content: cached for a year, never revalidated. */
const ASSET_MAX_AGE_MS = 365 * 24 * 3600 * 1000;

const MISSING_BUILD = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>vidflux</title></head>
<body><main><h1>The web client is not built</h1><p>Run <code>npm run build:web</code> (npm install does it), then reload.</p>
<p>The API is at <a href="/api/docs/">/api/docs/</a>.</p></main></body></html>`;

export interface WebOptions {
  distDir?: string;
  /** CSP frame-ancestors sources of the embed page (EMBED_FRAME_ANCESTORS). */
  embedFrameAncestors: readonly string[];
}

/** The CSP the app sends (app.ts, helmet), with the embed page's frame-ancestors instead of 'none'. */
function withFrameAncestors(csp: string, sources: readonly string[]): string {
  const value = sources.length ? sources.join(" ") : "'none'";
  const parts = csp.split(";").map((d) => d.trim()).filter((d) => d && !d.startsWith("frame-ancestors"));
  return [...parts, `frame-ancestors ${value}`].join(";");
}

export async function webRoutes(app: App, opts: WebOptions): Promise<void> {
  const root = opts.distDir ?? WEB_DIST_DIR;
  const built = existsSync(path.join(root, "index.html"));
  await app.register(async (scope) => {
    if (!built) {
      scope.get("/", { schema: { hide: true } }, (_req, reply) => reply.type("text/html; charset=utf-8").send(MISSING_BUILD));
      return;
    }
    // Encapsulated: the `sendFile` reply decorator stays inside this scope (swagger-ui registers
    // its own copy of @fastify/static).
    await scope.register(fastifyStatic, {
      root: path.join(root, "assets"),
      prefix: "/assets/",
      wildcard: false,
      index: false,
      immutable: true,
      maxAge: ASSET_MAX_AGE_MS,
    });
    // The pages themselves are revalidated every time: they name the current bundles.
    scope.get("/", { schema: { hide: true } }, (_req, reply) => reply.sendFile("index.html", root, { maxAge: 0, immutable: false }));
    scope.get(
      "/embed/:id",
      { schema: { hide: true, params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } },
      (_req, reply) => {
        const csp = reply.getHeader("content-security-policy");
        if (typeof csp === "string") reply.header("content-security-policy", withFrameAncestors(csp, opts.embedFrameAncestors));
        reply.removeHeader("x-frame-options");
        return reply.sendFile("embed.html", root, { maxAge: 0, immutable: false });
      },
    );
  });
}
