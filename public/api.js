// @ts-check
// The page's one way to call the API: a fetch helper typed by the OpenAPI document. The types
// come from src/apps/web/api.types.ts (`npm run api:types`, openapi-typescript) through
// api-client.types.ts; `npm run typecheck` checks every call of the page against them (tsconfig.web.json).

/** @typedef {import("../src/apps/web/api-client.types.js").ApiPath} ApiPath */
/** @typedef {import("../src/apps/web/api-client.types.js").HttpMethod} HttpMethod */
/** @typedef {import("../src/apps/web/api-client.types.js").ErrorBody} ErrorBody */

/** A refused call: the API's `{error: {code, message, details}}`. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {Partial<ErrorBody> | null} body
   */
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? null;
    /** @type {ErrorBody["error"]["details"] | null} */
    this.details = body?.error?.details ?? null;
  }
}

/**
 * `/api/videos/{id}/` with `{id}` filled in (encoded), plus the query.
 * @param {string} template
 * @param {Record<string, string | number> | undefined} params
 * @param {Record<string, unknown> | undefined} query
 */
export function buildUrl(template, params, query) {
  const path = template.replace(/\{([^}]+)\}/g, (_, name) => {
    const v = params?.[name];
    if (v === undefined) throw new Error(`missing path parameter ${name} for ${template}`);
    return encodeURIComponent(String(v));
  });
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null) q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/**
 * Makes a call helper on top of `send(url, init)` (the page's, which adds the bearer token and
 * refreshes it). Answers the operation's JSON success body, throws ApiError otherwise.
 * @param {(url: string, init: RequestInit) => Promise<Response>} send
 */
export function createApi(send) {
  /**
   * @template {HttpMethod} M
   * @template {import("../src/apps/web/api-client.types.js").ApiPath} P
   * @param {M & import("../src/apps/web/api-client.types.js").MethodOf<P>} method
   * @param {P} path
   * @param {import("../src/apps/web/api-client.types.js").Options<P, M>} [opts]
   * @returns {Promise<import("../src/apps/web/api-client.types.js").Ok<P, M>>}
   */
  return async function api(method, path, opts) {
    const o = /** @type {{ params?: Record<string, string | number>; query?: Record<string, unknown>; body?: unknown; headers?: Record<string, string>; url?: string }} */ (opts ?? {});
    /** @type {Record<string, string>} */
    const headers = { ...o.headers };
    if (o.body !== undefined) headers["content-type"] = "application/json";
    const res = await send(o.url ?? buildUrl(path, o.params, o.query), {
      method: method.toUpperCase(),
      headers,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  };
}
