/**
 * The database adapter: Kysely over better-sqlite3 (embedded default) or node-postgres
 * (`DATABASE_URL=postgres://…`). Same queries, same migrations, two dialects.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import pg from "pg";
import { Kysely, Migrator, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type DatabaseIntrospector, type MigrationProvider, type SchemaMetadata, type TableMetadata } from "kysely";
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
  const k = db as Kysely<unknown>;
  const migrator = new Migrator({
    db: schema && k.getExecutor().adapter instanceof PostgresAdapter ? withSchemaIntrospection(k, schema) : k,
    provider: new StaticMigrationProvider(),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/**
 * The Migrator asks the introspector whether its schema and bookkeeping tables exist, and
 * Kysely's PostgreSQL introspector answers by reading the catalog of EVERY schema in the
 * database (columns, types, defaults). With other processes creating, altering and dropping
 * their own schemas at the same moment (parallel test files, several deployments in one
 * database) that catalog read fails now and then on the others' half-done objects:
 * `schema "t_…" does not exist`, `column "title" of relation "videos" does not exist`. This
 * introspector looks at the one schema only, and only at names, which is all the Migrator uses.
 */
function withSchemaIntrospection(db: Kysely<unknown>, schema: string): Kysely<unknown> {
  const introspection: DatabaseIntrospector = {
    async getSchemas(): Promise<SchemaMetadata[]> {
      const r = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace where nspname = ${schema}`.execute(db);
      return r.rows;
    },
    async getTables(): Promise<TableMetadata[]> {
      const r = await sql<{ name: string }>`select c.relname as name from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where n.nspname = ${schema} and c.relkind in ('r', 'p')`.execute(db);
      return r.rows.map((t) => ({ name: t.name, schema, isView: false, columns: [] }));
    },
    async getMetadata() {
      return { tables: await this.getTables() };
    },
  };
  // Everything else is the real instance's (bound to it: Kysely keeps private fields).
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "introspection") return introspection;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** True when the error is a unique-constraint violation on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: string };
  return e.code === "23505" || e.code === "SQLITE_CONSTRAINT_UNIQUE" || e.code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
