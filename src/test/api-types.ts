/**
 * The typed client's source: the OpenAPI document of a real app (the harness's, so the settings
 * that could show in it are always the same), turned into TypeScript by openapi-typescript.
 * `npm run api:types` writes it to API_TYPES_FILE; api-types.test.ts checks the committed file
 * is what the routes say today.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import { loadConfig } from "../config.js";
import { createContext } from "../context.js";
import { buildApp, type App } from "../app.js";
import { composeDomains } from "../composition.js";

export const API_TYPES_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../apps/web/api.types.ts");

const HEADER = [
  "/**",
  " * The API's types, generated from its OpenAPI document (`/api/schema/`) by openapi-typescript:",
  " * do not edit; run `npm run api:types` after changing a route (api-types.test.ts fails until then).",
  " * The web client (public/api.js) types its calls with them through api-client.types.ts.",
  " */",
  "",
].join("\n");

/**
 * An app on a throwaway SQLite file, for the script (the test harness imports vitest, which only
 * loads under vitest). The document does not depend on the database or the settings.
 */
export async function withDocumentApp<T>(fn: (app: App) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vidflux-api-types-"));
  const config = loadConfig({ NODE_ENV: "test", DATA_DIR: dataDir, JWT_SECRET: "api-types-api-types-api-types-0123456789", EMAIL_BACKEND: "file", RATE_LIMIT: "false" });
  const ctx = await createContext(config);
  try {
    const app = await buildApp(ctx, await composeDomains(ctx));
    await app.ready();
    try {
      return await fn(app);
    } finally {
      await app.close();
    }
  } finally {
    await ctx.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function renderApiTypes(h: { app: App }): Promise<string> {
  const doc = JSON.parse((await h.app.inject({ url: "/api/schema/" })).body) as Parameters<typeof openapiTS>[0];
  const ast = await openapiTS(doc, { alphabetize: false });
  return HEADER + astToString(ast);
}
