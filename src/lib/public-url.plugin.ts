/**
 * The base of absolute URLs in responses (avatars, page links): PUBLIC_URL when it is set; else
 * the request's own origin only when its Host is one the operator listed (TRUSTED_HOSTS); else
 * none, and the URLs are relative (`/api/…`), which clients resolve against the URL they asked.
 *
 * The Host header (and X-Forwarded-Host under TRUST_PROXY) is written by the client: echoed into
 * a response, a forged one points the links of a shared cache's copy, or a client that follows
 * them, at a host of the attacker's choosing (the reset-link poisoning of emails, in responses).
 * `req.publicBase` is a getter, computed only by the routes that build links.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";

declare module "fastify" {
  interface FastifyRequest {
    /** `https://host` (no trailing slash) to prefix absolute paths with, or "" for relative URLs */
    readonly publicBase: string;
  }
}

export interface PublicUrlSettings {
  publicUrl?: string | undefined;
  /** lower-case `name` or `name:port` values (TRUSTED_HOSTS) */
  trustedHosts: readonly string[];
}

export function publicBaseUrl(req: Pick<FastifyRequest, "protocol" | "host">, s: PublicUrlSettings): string {
  if (s.publicUrl) return s.publicUrl.replace(/\/+$/, "");
  const host = (req.host ?? "").toLowerCase();
  if (host && s.trustedHosts.includes(host)) return `${req.protocol}://${host}`;
  return "";
}

export const publicUrlPlugin = fp(
  async (app: FastifyInstance, s: PublicUrlSettings) => {
    app.decorateRequest("publicBase", {
      getter(this: FastifyRequest) {
        return publicBaseUrl(this, s);
      },
    });
  },
  { name: "vidflux-public-url" },
);
