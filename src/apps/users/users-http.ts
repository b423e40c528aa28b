/**
 * Small HTTP helpers shared by the users and auth routes. Links in responses use
 * `req.publicBase` (lib/public-url.plugin.ts): PUBLIC_URL, a TRUSTED_HOSTS Host, or relative.
 */
import type { Config } from "../../config.js";

/** The strict per-route limit of credential endpoints (brute force), when rate limiting is on. */
export function authRateLimit(config: Config): { max: number; timeWindow: number } {
  return { max: config.rateLimit.authMax, timeWindow: config.rateLimit.authWindowS * 1000 };
}
