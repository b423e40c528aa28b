/**
 * Builds a real app for a test file: a fresh SQLite file in a temp dir, or a fresh PostgreSQL
 * schema when DATABASE_URL is set (so parallel test files never see each other's rows).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { expect } from "vitest";
import { loadConfig, type Config } from "../config.js";
import { createContext, type AppContext } from "../context.js";
import { buildApp, type App } from "../app.js";
import { composeDomains, type Domains } from "../composition.js";
import type { UndeclaredStatus } from "../lib/openapi.js";
import { TEST_DATABASE_URL } from "./test-env.js";

export interface Harness {
  app: App;
  ctx: AppContext;
  /** the domains the app's routes use (the composition root's, built once) */
  domains: Domains;
  config: Config;
  dataDir: string;
  /** responses whose status their route's schema does not list; `close()` fails on any */
  undeclared: (UndeclaredStatus & { test: string | undefined })[];
  close(): Promise<void>;
}

/**
 * Every test file's app checks that each response's status is in its route's schema (and so in
 * the OpenAPI document): a route that answers something undocumented fails the file that hit
 * it, at `close()`, naming the test, the route and the status.
 */
function undeclaredRecorder(into: Harness["undeclared"]): (v: UndeclaredStatus) => void {
  return (v) => {
    const test = expect.getState().currentTestName;
    into.push({ ...v, test });
    console.error(`undeclared_status: ${v.method} ${v.url} answered ${v.status}, which its schema.response does not list (test: ${test ?? "?"})`);
  };
}

export async function createPgSchema(url: string): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  return {
    schema,
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

export interface HarnessOptions {
  /** receives every log line, the app's and the process logger's (set LOG_LEVEL in `env` too: tests default to silent) */
  logStream?: { write(line: string): void };
}

export async function createHarness(env: Record<string, string> = {}, opts: HarnessOptions = {}): Promise<Harness> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vidflux-test-"));
  const config = loadConfig({
    NODE_ENV: "test",
    DATA_DIR: dataDir,
    JWT_SECRET: "test-secret-test-secret-test-secret-0123456789",
    EMAIL_BACKEND: "file",
    RATE_LIMIT: "false",
    REDIS_PREFIX: `vftest-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    ...(TEST_DATABASE_URL ? { DATABASE_URL: TEST_DATABASE_URL } : {}),
    ...env,
  });
  const pgSchema = config.db.kind === "postgres" ? await createPgSchema(config.db.url!) : null;
  const ctx = await createContext(config, { ...(pgSchema ? { pgSchema: pgSchema.schema } : {}), ...(opts.logStream ? { logStream: opts.logStream } : {}) });
  const domains = await composeDomains(ctx);
  const undeclared: Harness["undeclared"] = [];
  const app = await buildApp(ctx, domains, { onUndeclaredStatus: undeclaredRecorder(undeclared), ...(opts.logStream ? { logStream: opts.logStream } : {}) });
  await app.ready();
  return {
    app,
    ctx,
    domains,
    config,
    dataDir,
    undeclared,
    async close() {
      await app.close();
      await ctx.close();
      await pgSchema?.drop();
      rmSync(dataDir, { recursive: true, force: true });
      if (undeclared.length > 0) {
        const list = [...new Set(undeclared.map((v) => `${v.method} ${v.url} → ${v.status} (${v.test ?? "?"})`))];
        throw new Error(`undeclared_status: routes answered statuses their schemas do not list:\n  ${list.join("\n  ")}`);
      }
    },
  };
}
