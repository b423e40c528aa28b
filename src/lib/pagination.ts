/**
 * The list convention: `?limit=` (default 20, max 100) and an opaque `?cursor=`, answering
 * `{results, next, previous}` where next/previous are absolute URLs or null. Keyset pagination:
 * the cursor encodes the sort key of the boundary row and a direction, so pages stay stable while
 * rows are inserted (offset pagination would skip or repeat rows).
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { fieldError } from "./errors.js";

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
});
export type PageQuery = Static<typeof PageQuery>;

export const Page = <T extends TSchema>(item: T, opts: { description?: string; examples?: unknown[] } = {}) =>
  Type.Object(
    {
      results: Type.Array(item),
      next: Type.Union([Type.String(), Type.Null()], { description: "the next page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null" }),
      previous: Type.Union([Type.String(), Type.Null()], { description: "the previous page's URL (absolute with PUBLIC_URL or a TRUSTED_HOSTS Host, else relative), or null" }),
    },
    { description: opts.description ?? "A page of results", ...(opts.examples ? { examples: opts.examples } : {}) },
  );

/** A page example around one item (URLs as the API builds them). */
export const pageExample = (path: string, item: unknown) => ({
  results: [item],
  next: `https://vidflux.example${path}?cursor=eyJrZXkiOlsiMjAyNi0wMS0wMlQwMzowNDowNS4wMDBaIl0sImRpciI6Im4ifQ`,
  previous: null,
});

export interface Cursor {
  /** The sort-key values of the boundary row, e.g. [created, id]. */
  key: (string | number)[];
  /** `n`: rows after key (next page); `p`: rows before key (previous page). */
  dir: "n" | "p";
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

export function decodeCursor(s: string | undefined): Cursor | null {
  if (!s) return null;
  try {
    const c = JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as Cursor;
    if (!Array.isArray(c.key) || (c.dir !== "n" && c.dir !== "p")) throw new Error("bad");
    if (!c.key.every((k) => typeof k === "string" || typeof k === "number")) throw new Error("bad");
    return c;
  } catch {
    throw fieldError("invalid_cursor", "The cursor is not valid.", "querystring", "cursor");
  }
}

/**
 * Builds the page URL from the request URL, replacing the cursor parameter: absolute on
 * `baseUrl`, or relative (path and query) when `baseUrl` is "" (no PUBLIC_URL, untrusted Host).
 */
export function pageUrl(requestUrl: string, baseUrl: string, cursor: string): string {
  const u = new URL(requestUrl, baseUrl || "http://relative.invalid");
  u.searchParams.set("cursor", cursor);
  return baseUrl ? u.toString() : `${u.pathname}${u.search}`;
}

/**
 * Given rows fetched with limit+1 in the cursor's direction, returns the page in display order and
 * the next/previous cursors. `keyOf` extracts the sort key of a row.
 */
export function paginate<R>(
  rows: R[],
  limit: number,
  cursor: Cursor | null,
  keyOf: (r: R) => (string | number)[],
  urlFor: (c: string) => string,
): { results: R[]; next: string | null; previous: string | null } {
  const hasMore = rows.length > limit;
  let page = hasMore ? rows.slice(0, limit) : rows;
  if (cursor?.dir === "p") page = page.reverse();
  const first = page[0];
  const last = page[page.length - 1];
  const hasNext = cursor?.dir === "p" ? true : hasMore;
  const hasPrev = cursor === null ? false : cursor.dir === "n" ? true : hasMore;
  return {
    results: page,
    next: hasNext && last ? urlFor(encodeCursor({ key: keyOf(last), dir: "n" })) : null,
    previous: hasPrev && first ? urlFor(encodeCursor({ key: keyOf(first), dir: "p" })) : null,
  };
}
