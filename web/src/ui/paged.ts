/**
 * A list that starts with one page of the API and grows through its `next` links ("Load more"),
 * with in-place edits (an item resolved, deleted or saved) that need no reload.
 */
import { useRef, useState } from "preact/hooks";
import { sameOrigin } from "../api/client.js";
import { useLoad } from "./components.js";

export interface PageOf<T> {
  results: T[];
  next: string | null;
}

export function usePaged<T, P extends PageOf<T> = PageOf<T>>(first: () => Promise<P>, more: (url: string) => Promise<PageOf<T>>, deps: unknown[]) {
  const [extra, setExtra] = useState<PageOf<T> | null>(null);
  const [busy, setBusy] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);
  // A new first page (other filter, search) makes a "more" still in flight belong to the old list.
  const generation = useRef(0);
  const load = useLoad(() => {
    generation.current++;
    setExtra(null);
    setMoreError(null);
    return first();
  }, deps);
  const items = [...(load.data?.results ?? []), ...(extra?.results ?? [])];
  const next = extra ? extra.next : (load.data?.next ?? null);
  const loadMore = async () => {
    if (!next || busy) return;
    const gen = generation.current;
    setBusy(true);
    setMoreError(null);
    try {
      const page = await more(sameOrigin(next));
      if (gen === generation.current) setExtra((x) => ({ results: [...(x?.results ?? []), ...page.results], next: page.next }));
    } catch (err) {
      if (gen === generation.current) setMoreError(err);
    } finally {
      setBusy(false);
    }
  };
  /** Keeps only the items `keep` accepts (resolved, deleted). */
  const drop = (keep: (t: T) => boolean) => {
    // Updaters, not values: the callers include event handlers bound by an earlier render.
    load.set((d) => (d ? { ...d, results: d.results.filter(keep) } : d));
    setExtra((x) => (x ? { ...x, results: x.results.filter(keep) } : x));
  };
  /** Replaces items in place (saved, changed status). */
  const patch = (change: (t: T) => T) => {
    load.set((d) => (d ? { ...d, results: d.results.map(change) } : d));
    setExtra((x) => (x ? { ...x, results: x.results.map(change) } : x));
  };
  return { ...load, items, next, loadMore, loadingMore: busy, moreError, drop, patch };
}
