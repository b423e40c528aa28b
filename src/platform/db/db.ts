/**
 * The database adapter: Kysely over better-sqlite3 (embedded default) or node-postgres
 * (`DATABASE_URL=postgres://…`). Same queries, same migrations, two dialects.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import pg from "pg";
import { Kysely, Migrator, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type MigrationProvider } from "kysely";
import type { Database } from "./tables.js";
import { migrations } from "./migrations/index.js";

// node-postgres returns int8/bigint as strings (they can exceed 2^53). Our bigints are byte
// counts and ids of queue rows, far below 2^53, so numbers are safe and match SQLite's.
pg.types.setTypeParser(20, (v) => Number(v));

export type Db = Kysely<Database>;

export interface DbOptions {
  kind: "sqlite" | "postgres";
  url?: string | undefined;
  sqlitePath: string;
  /** Postgres schema to use (tests isolate each file in its own schema). */
  schema?: string;
  poolSize?: number;
}

/** Opens the configured database (DATABASE_URL / the SQLite file, DATABASE_SCHEMA) and migrates it. */
export async function openDb(db: { kind: "sqlite" | "postgres"; url?: string | undefined; sqlitePath: string; schema?: string | undefined }, opts: { migrate?: boolean } = {}): Promise<Db> {
  const conn = createDb({ kind: db.kind, url: db.url, sqlitePath: db.sqlitePath, ...(db.schema ? { schema: db.schema } : {}) });
  if (opts.migrate !== false) await migrateToLatest(conn, db.schema);
  return conn;
}

export function createDb(opts: DbOptions): Db {
  if (opts.kind === "postgres") {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    });
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  if (opts.sqlitePath !== ":memory:") mkdirSync(path.dirname(opts.sqlitePath), { recursive: true });
  const database = new SQLite(opts.sqlitePath);
  // WAL lets readers run while a writer commits; busy_timeout waits instead of failing with
  // SQLITE_BUSY when the worker and the API write at the same moment.
  database.pragma("journal_mode = WAL");
  database.pragma("busy_timeout = 5000");
  database.pragma("foreign_keys = ON");
  database.pragma("synchronous = NORMAL");
  return new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
}

class StaticMigrationProvider implements MigrationProvider {
  async getMigrations() {
    return migrations;
  }
}

/**
 * `schema`: the PostgreSQL schema the tables live in. Kysely looks for its bookkeeping tables
 * across every schema unless told one, so with several schemas in a database (parallel test
 * files) it would find another schema's `kysely_migration` and never create its own.
 */
export async function migrateToLatest(db: Kysely<unknown> | Db, schema?: string): Promise<string[]> {
  if (!schema && db.getExecutor().adapter instanceof PostgresAdapter) {
    // No schema given: the connection's own (search_path's first, normally `public`).
    const r = await sql<{ s: string }>`select current_schema() as s`.execute(db);
    schema = r.rows[0]?.s ?? "public";
  }
  const migrator = new Migrator({
    db: db as Kysely<unknown>,
    provider: new StaticMigrationProvider(),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** True when the error is a unique-constraint violation on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: string };
  return e.code === "23505" || e.code === "SQLITE_CONSTRAINT_UNIQUE" || e.code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
