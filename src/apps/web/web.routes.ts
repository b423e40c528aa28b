/**
 * The browser front end: `public/` (index.html, app.js, style.css: plain ES modules, no build
 * step) at `/` and `/static/`, plus the two browser libraries it needs, served from node_modules
 * at `/static/vendor/` so the page runs offline and under the app's CSP (`script-src 'self'`).
 *
 * Only GET/HEAD routes for the files that exist at start-up are registered (`wildcard: false`):
 * a catch-all `GET /*` would make every unknown path "known" to the 405 shadow router in app.ts.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { App } from "../../lib/app.types.js";

const require = createRequire(import.meta.url);

/** `public/` at the repository root: three levels up from both src/apps/web and dist/apps/web. */
export const PUBLIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../public");

/** Browser bundles served under `/static/vendor/<name>`, resolved through their packages. */
export const VENDOR_FILES: Readonly<Record<string, string>> = {
  "hls.min.js": require.resolve("hls.js/dist/hls.min.js"),
  "tus.min.js": require.resolve("tus-js-client/dist/tus.min.js"),
};

/** Vendor files change only with a dependency upgrade; the page's own files are revalidated every time. */
const VENDOR_MAX_AGE_MS = 24 * 3600 * 1000;

export async function webRoutes(app: App, opts: { publicDir?: string } = {}): Promise<void> {
  const root = opts.publicDir ?? PUBLIC_DIR;
  // Encapsulated: the `sendFile` reply decorator stays inside this scope (swagger-ui registers
  // its own copy of @fastify/static).
  await app.register(async (scope) => {
    await scope.register(fastifyStatic, { root, prefix: "/static/", wildcard: false, index: false, maxAge: 0 });
    scope.get("/", { schema: { hide: true } }, (_req, reply) => reply.sendFile("index.html", root));
    for (const [name, file] of Object.entries(VENDOR_FILES)) {
      scope.get(`/static/vendor/${name}`, { schema: { hide: true } }, (_req, reply) =>
        reply.sendFile(path.basename(file), path.dirname(file), { maxAge: VENDOR_MAX_AGE_MS }),
      );
    }
  });
}
