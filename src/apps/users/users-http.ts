/** Small HTTP helpers shared by the users and auth routes. */
import type { FastifyRequest } from "fastify";
import type { Config } from "../../config.js";

/** Absolute base URL for links in responses and emails: PUBLIC_URL, else the request's own origin. */
export function baseUrlOf(req: FastifyRequest, config: Config): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, "");
  return `${req.protocol}://${req.host}`;
}

/** The strict per-route limit of credential endpoints (brute force), when rate limiting is on. */
export function authRateLimit(config: Config): { max: number; timeWindow: number } {
  return { max: config.rateLimit.authMax, timeWindow: config.rateLimit.authWindowS * 1000 };
}
