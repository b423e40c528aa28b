import { spawnSync } from "node:child_process";
import path from "node:path";
/**
 * Runs once per `npm test`: says which suites are skipped for lack of services, so a green run
 * without DATABASE_URL/REDIS_URL never hides that Postgres/Redis were not exercised.
 */
export default function setup(): void {
  // The browser tests load the built web client (web/dist): rebuild it when web/ changed since.
  const built = spawnSync(process.execPath, [path.resolve(import.meta.dirname, "../../scripts/ensure-build.mjs"), "--web-only"], { stdio: "inherit" });
  if (built.status !== 0) throw new Error("building the web client (npm run build:web) failed");
  const missing: string[] = [];
  if (!process.env.DATABASE_URL?.startsWith("postgres")) missing.push("PostgreSQL suites (set DATABASE_URL=postgres://…)");
  if (!process.env.REDIS_URL) missing.push("Redis/BullMQ suites (set REDIS_URL=redis://…)");
  if (missing.length) console.warn(`\n[vidflux] skipped: ${missing.join("; ")}\n`);
}
