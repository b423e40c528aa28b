/**
 * The environment of a child process a test spawns (e.g. a `src/worker.ts` worker): PATH and HOME
 * from this process and nothing else, plus `vars`. An outer DATABASE_URL or REDIS_URL (set for the
 * PostgreSQL/Redis suites) must never reach a child meant for another backend.
 */
export function childEnv(vars: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...vars };
}
