// Runs the real command in a child process (through tsx), against a temp DATA_DIR on SQLite or
// a fresh Postgres schema when DATABASE_URL is set.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { verify } from "@node-rs/argon2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../platform/db/db.js";
import { createPgSchema } from "../test/app-harness.js";
import { TEST_DATABASE_URL } from "../test/test-env.js";
import { childEnv } from "../test/users.fixtures.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SCRIPT = path.join(ROOT, "src/cli/createsuperuser.ts");

let dataDir: string;
let env: Record<string, string>;
let db: Db;
let dropSchema: (() => Promise<void>) | null = null;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "vidflux-cli-"));
  env = childEnv(["DATABASE_URL", "VIDFLUX_SUPERUSER_PASSWORD", "DATA_DIR"], { NODE_ENV: "test", DATA_DIR: dataDir, LOG_LEVEL: "silent" });
  if (TEST_DATABASE_URL) {
    const s = await createPgSchema(TEST_DATABASE_URL);
    dropSchema = s.drop;
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set("options", `-c search_path=${s.schema}`);
    env.DATABASE_URL = url.toString();
    db = createDb({ kind: "postgres", url: TEST_DATABASE_URL, sqlitePath: "", schema: s.schema });
  } else {
    db = createDb({ kind: "sqlite", sqlitePath: path.join(dataDir, "vidflux.sqlite3") });
  }
});

afterAll(async () => {
  await db?.destroy();
  await dropSchema?.();
  rmSync(dataDir, { recursive: true, force: true });
});

function run(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", SCRIPT, ...args], { cwd: ROOT, env: { ...env, ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}

const userRow = (username: string) => db.selectFrom("users").selectAll().where("username_key", "=", username.toLowerCase()).executeTakeFirst();

describe("createsuperuser", () => {
  it("creates an admin with --password, running migrations first", async () => {
    const r = await run(["--username", "RootAdmin", "--email", "Root@Example.COM", "--password", "violet-umbrella-42"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Superuser "RootAdmin" created successfully.');
    const row = (await userRow("rootadmin"))!;
    expect(row).toMatchObject({ role: "admin", is_active: 1, email: "Root@example.com" });
    expect(await verify(row.password_hash, "violet-umbrella-42")).toBe(true);
  });

  it("fails clearly when the username or email exists", async () => {
    const r = await run(["--username", "rootadmin", "--email", "other@example.com", "--password", "violet-umbrella-42"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("Error: That username is already taken.\n");
    const e = await run(["--username", "someone_else", "--email", "root@example.com", "--password", "violet-umbrella-42"]);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain("email already exists");
  });

  it("takes the password from VIDFLUX_SUPERUSER_PASSWORD", async () => {
    const r = await run(["--username", "env_admin", "--email", "env@example.com"], { env: { VIDFLUX_SUPERUSER_PASSWORD: "env-provided-secret-9" } });
    expect(r.code).toBe(0);
    expect(await verify((await userRow("env_admin"))!.password_hash, "env-provided-secret-9")).toBe(true);
  });

  it("prompts twice for the password when none is given", async () => {
    const r = await run(["--username", "prompted", "--email", "prompted@example.com"], { input: "typed-secret-phrase\ntyped-secret-phrase\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Password: ");
    expect(r.stdout).toContain("Password (again): ");
    expect(r.stdout).not.toContain("typed-secret-phrase");
    expect(await verify((await userRow("prompted"))!.password_hash, "typed-secret-phrase")).toBe(true);
    const [mismatch, eof] = await Promise.all([
      run(["--username", "prompted2", "--email", "prompted2@example.com"], { input: "typed-secret-phrase\nsomething-else\n" }),
      run(["--username", "prompted3", "--email", "prompted3@example.com"], { input: "" }),
    ]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain("didn't match");
    expect(eof.code).toBe(1);
    expect(eof.stderr).toContain("no password given");
    expect(await userRow("prompted2")).toBeUndefined();
  });

  it("applies the password rules and validates arguments", async () => {
    const ok = "violet-umbrella-42";
    const [weak, missing, badName, badConfig] = await Promise.all([
      run(["--username", "weakling", "--email", "weak@example.com", "--password", "password123"]),
      run(["--username", "nomail"]),
      run(["--username", "no spaces", "--email", "x@example.com", "--password", ok]),
      run(["--username", "cfg", "--email", "cfg@example.com", "--password", ok], { env: { PORT: "abc" } }),
    ]);
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain("too common");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("--username and --email are required");
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain("valid username");
    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr).toBe("Error: PORT must be an integer\n");
    expect(await userRow("weakling")).toBeUndefined();
  });
});
