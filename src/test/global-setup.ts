/**
 * Runs once per `npm test`: says which suites are skipped for lack of services, so a green run
 * without DATABASE_URL/REDIS_URL never hides that Postgres/Redis were not exercised.
 */
export default function setup(): void {
  const missing: string[] = [];
  if (!process.env.DATABASE_URL?.startsWith("postgres")) missing.push("PostgreSQL suites (set DATABASE_URL=postgres://…)");
  if (!process.env.REDIS_URL) missing.push("Redis/BullMQ suites (set REDIS_URL=redis://…)");
  if (missing.length) console.warn(`\n[vidflux] skipped: ${missing.join("; ")}\n`);
}
