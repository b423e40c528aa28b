/**
 * Hash routing (`/#/watch/{id}?t=12`): the backend serves one page at `/` and needs no
 * catch-all route, and a reset token in `#/reset?token=…` never reaches a server log (the
 * fragment is not sent in requests).
 */
import { signal } from "@preact/signals";

export interface Route {
  /** Path segments after `#/`: `#/watch/abc` → ["watch", "abc"]; `#/` → []. */
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  return {
    parts: path.split("/").filter(Boolean).map((p) => decodeURIComponent(p)),
    query: new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)),
  };
}

export const route = signal<Route>(parseHash(window.location.hash));
/** Route changes since the page loaded: 0 on the first page, which keeps the browser's own focus. */
export let routeChanges = 0;
const changed = () => {
  routeChanges++;
  route.value = parseHash(window.location.hash);
};
window.addEventListener("hashchange", changed);

/** `href("watch", id, {t: 12})` → `#/watch/<id>?t=12`. */
export function href(...args: (string | Record<string, string | number | undefined>)[]): string {
  const parts: string[] = [];
  let query = "";
  for (const a of args) {
    if (typeof a === "string") parts.push(encodeURIComponent(a));
    else {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(a)) if (v !== undefined && v !== "") q.set(k, String(v));
      query = q.toString() ? `?${q}` : "";
    }
  }
  return `#/${parts.join("/")}${query}`;
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) {
    window.history.replaceState(null, "", to);
    changed();
  } else window.location.hash = to.replace(/^#/, "");
}
