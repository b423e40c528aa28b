/**
 * The typed client is the live document's: regenerating src/apps/web/api.types.ts from the app
 * gives the committed file (a route changed without `npm run api:types` fails here), and the
 * web client's calls type-check against it (web/tsconfig.json: every call of web/src).
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { API_TYPES_FILE, renderApiTypes } from "../../test/api-types.js";

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(API_TYPES_FILE), "../../..");
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => h?.close());

describe("the generated API types", () => {
  it("are what the live document generates (run `npm run api:types` after changing a route)", async () => {
    const fresh = await renderApiTypes(h);
    const committed = readFileSync(API_TYPES_FILE, "utf8");
    // toBe on 400 KB strings prints a useless diff: compare, then name the first differing line.
    if (fresh !== committed) {
      const a = fresh.split("\n");
      const b = committed.split("\n");
      const i = a.findIndex((line, n) => line !== b[n]);
      expect.fail(`api.types.ts is stale from line ${i + 1}: generated ${JSON.stringify(a[i])}, committed ${JSON.stringify(b[i])}`);
    }
  });

  it("compile, and the web client's calls match them", async () => {
    const r = await run(process.execPath, [TSC, "-p", "web/tsconfig.json"], { cwd: ROOT }).catch((err: { stdout?: string; code?: number }) => err);
    expect("code" in r ? r.stdout : "").toBe("");
  }, 60_000);
});
