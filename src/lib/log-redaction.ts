/**
 * What must never reach a log: credentials in URLs. EventSource and WebSocket clients, players
 * and tus clients put tokens in the query (`?token=`, `?access_token=`), and a query parser
 * decodes names, so `?%74oken=` *is* `token` to the auth guard and must be to the redaction too:
 * every parameter name is percent-decoded (`+` as a space, as WHATWG form decoding does) and
 * lower-cased before it is judged, and its value is replaced whole.
 */

/** Names that are credentials whatever they end with (`access`, `refresh`: the old token query names). */
const EXACT = new Set(["access", "refresh", "code", "sig", "pwd", "pass", "auth", "jwt", "session", "sid"]);
/** Endings of credential names once separators are dropped: `access_token`, `X-Amz-Signature`, `apiKey`, `client-secret`… */
const SUFFIX = /(token|secret|password|passwd|passphrase|signature|apikey|key|credential|credentials|authorization|sessionid|jwt)$/;

export const REDACTED = "[REDACTED]";

/** Percent-decodes what is decodable and leaves a malformed escape as it is (a parser may read it either way). */
function lenientDecode(s: string): string {
  const plus = s.replace(/\+/g, " ");
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** True for a query parameter name (raw, as it appears in the URL) that carries a credential. */
export function isCredentialName(rawName: string): boolean {
  for (const candidate of new Set([rawName, lenientDecode(rawName)])) {
    const lower = candidate.trim().toLowerCase();
    if (EXACT.has(lower)) return true;
    const squashed = lower.replace(/[^a-z0-9]/g, "");
    if (EXACT.has(squashed) || SUFFIX.test(squashed)) return true;
  }
  return false;
}

/** The URL with the value of every credential-like query parameter replaced by `[REDACTED]`. */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const hash = url.indexOf("#", q);
  const query = hash < 0 ? url.slice(q + 1) : url.slice(q + 1, hash);
  const rest = hash < 0 ? "" : url.slice(hash);
  const pairs = query.split("&").map((pair) => {
    const eq = pair.indexOf("=");
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (!isCredentialName(name)) return pair;
    return eq < 0 ? pair : `${name}=${REDACTED}`;
  });
  return `${url.slice(0, q + 1)}${pairs.join("&")}${rest}`;
}
