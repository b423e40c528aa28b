/**
 * `npm run migrate`: applies the database migrations (SQLite file in DATA_DIR, or DATABASE_URL /
 * DATABASE_SCHEMA on PostgreSQL) and says which ran. `npm start` migrates by itself; this is for
 * deployments that migrate once before starting many API instances.
 */
import { loadConfigOrExit } from "../config.js";
import { migrateToLatest, openDb } from "../platform/db/db.js";

async function main(): Promise<number> {
  const config = loadConfigOrExit("migrate");
  const db = await openDb(config.db, { migrate: false });
  try {
    const applied = await migrateToLatest(db, config.db.schema);
    process.stdout.write(applied.length ? `Applied: ${applied.join(", ")}\n` : "No migrations to apply.\n");
    return 0;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`migrate failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
