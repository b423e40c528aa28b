/** What the test environment offers; suites needing a service use `describe.skipIf(!...)`. */
import { loadConfig } from "../config.js";

const env = loadConfig({ DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL });
export const TEST_DATABASE_URL = env.db.kind === "postgres" ? env.db.url! : null;
export const TEST_REDIS_URL = env.redisUrl ?? null;
