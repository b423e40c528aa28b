// `npm run migrate` in a child process against a temp SQLite DATA_DIR: the first run applies every
// migration, the second has nothing left to do, a bad setting fails with the variable's name.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { childEnv } from "../test/child-env.js";
import { migrations } from "../platform/db/migrations/index.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SCRIPT = path.join(ROOT, "src/cli/migrate.ts");
const dataDir = mkdtempSync(path.join(tmpdir(), "vidflux-migrate-"));
const run = (env: Record<string, string>) =>
  spawnSync(process.execPath, ["--import", "tsx", SCRIPT], { cwd: ROOT, env: childEnv(env), encoding: "utf8", timeout: 60_000 });

describe("npm run migrate", () => {
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("applies every migration once", () => {
    const first = run({ DATA_DIR: dataDir });
    expect(first.status).toBe(0);
    expect(first.stdout.trim()).toBe(`Applied: ${Object.keys(migrations).join(", ")}`);
    const second = run({ DATA_DIR: dataDir });
    expect(second.status).toBe(0);
    expect(second.stdout.trim()).toBe("No migrations to apply.");
  });

  it("names a bad setting", () => {
    const bad = run({ DATA_DIR: dataDir, DATABASE_URL: "mysql://x" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("DATABASE_URL must use");
  });
});
