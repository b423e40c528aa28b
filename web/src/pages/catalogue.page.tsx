/**
 * `#/?q=<search>&sort=<ordering>`: the ready videos as a grid of cards (poster, title, duration,
 * views, likes), searched (`?search=`, title and description) and sorted as the API allows;
 * further pages load as the end of the grid scrolls into view (IntersectionObserver on a
 * sentinel), or with the "Load more" button where that does not fire. Signed in, a "Continue
 * watching" row comes first (the history's unfinished videos).
 *
 * Search and sort live in the address, so Back, reload and a shared link keep them.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { sameOrigin, type Paths } from "../api/client.js";
import { api, me } from "../api/session.js";
import { href, navigate } from "../router.js";
import { Empty, ErrorBox, Loading, Page } from "../ui/components.js";
import { formatCount, formatDuration } from "../ui/format.js";

type Item = Paths["/api/videos/"]["get"]["responses"][200]["content"]["application/json"]["results"][number];
type HistoryItem = Paths["/api/users/me/history/"]["get"]["responses"][200]["content"]["application/json"]["results"][number];
type Ordering = "-created" | "created" | "-views" | "-likes";

const ORDERINGS: [Ordering, string][] = [
  ["-created", "Newest"],
  ["created", "Oldest"],
  ["-views", "Most viewed"],
  ["-likes", "Most liked"],
];
const isOrdering = (s: string | null): s is Ordering => ORDERINGS.some(([o]) => o === s);
const PAGE = 24;

const plural = (n: number, one: string, many: string) => `${formatCount(n)} ${n === 1 ? one : many}`;

/** A poster: list items of private videos carry no playback token, so theirs would be refused. */
function Thumb(props: { poster: string | null; private?: boolean; duration: number | null; progress?: number }) {
  return (
    <div class="thumb">
      {props.poster && !props.private ? <img src={props.poster} alt="" loading="lazy" decoding="async" /> : <div class="no-poster" aria-hidden="true" />}
      <span class="duration">{formatDuration(props.duration)}</span>
      {props.progress !== undefined && (
        <span class="watched" aria-hidden="true">
          <span style={{ width: `${Math.round(props.progress * 100)}%` }} />
        </span>
      )}
    </div>
  );
}

export function VideoCard(props: { video: Item }) {
  const v = props.video;
  return (
    <li class="card">
      <a href={href("watch", v.id)}>
        <Thumb poster={v.poster} private={v.visibility === "private"} duration={v.duration} />
        <div class="meta">
          <h3 class="title">{v.title}</h3>
          <p class="sub">{v.owner.display_name || v.owner.username}</p>
          <p class="sub">
            {plural(v.views, "view", "views")} · {plural(v.likes, "like", "likes")}
          </p>
        </div>
      </a>
    </li>
  );
}

function ContinueWatching() {
  const [items, setItems] = useState<HistoryItem[]>([]);
  useEffect(() => {
    let live = true;
    api("get", "/api/users/me/history/", { query: { limit: 12 } })
      .then((page) => live && setItems(page.results.filter((h) => !h.finished)))
      // The row is a shortcut: without it the catalogue is still whole.
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  if (!items.length) return null;
  return (
    <section aria-labelledby="continue-title" class="continue">
      <h2 id="continue-title">Continue watching</h2>
      <ul class="grid row-scroll">
        {items.map((h) => {
          const d = h.duration ?? h.video.duration;
          return (
            <li class="card" key={h.video.id}>
              <a href={href("watch", h.video.id, { t: Math.floor(h.position) || undefined })}>
                <Thumb poster={h.video.poster} duration={d} progress={d ? Math.min(1, h.position / d) : 0} />
                <div class="meta">
                  <h3 class="title">{h.video.title}</h3>
                  <p class="sub">
                    {formatDuration(h.position)} of {formatDuration(d)}
                  </p>
                </div>
              </a>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

export default function CataloguePage(props: { parts: string[]; query: URLSearchParams }) {
  const q = props.query.get("q") ?? "";
  const sortParam = props.query.get("sort");
  const sort: Ordering = isOrdering(sortParam) ? sortParam : "-created";
  const [draft, setDraft] = useState(q);
  const [items, setItems] = useState<Item[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  const sentinel = useRef<HTMLDivElement>(null);
  // The request in flight: a later search replaces it, and its late answer is dropped.
  const generation = useRef(0);

  useEffect(() => setDraft(q), [q]);

  const load = async (url: string | null) => {
    const gen = url ? generation.current : ++generation.current;
    setLoading(true);
    setError(null);
    try {
      const page = url
        ? await api("get", "/api/videos/", { url: sameOrigin(url) })
        : await api("get", "/api/videos/", { query: { search: q || undefined, ordering: sort, status: "ready", limit: PAGE } });
      if (gen !== generation.current) return;
      setItems((old) => (url ? [...old, ...page.results.filter((v) => !old.some((o) => o.id === v.id))] : page.results));
      setNext(page.next);
    } catch (err) {
      if (gen === generation.current) setError(err);
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  };
  useEffect(() => void load(null), [q, sort, n]);

  // The next page when the end of the grid comes into view (a margin ahead, so it is there in time).
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !next || loading || !("IntersectionObserver" in window)) return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void load(next);
    }, { rootMargin: "400px 0px" });
    io.observe(el);
    return () => io.disconnect();
  }, [next, loading]);

  const go = (query: { q?: string; sort?: Ordering }) => {
    const nextQ = query.q ?? q;
    const nextSort = query.sort ?? sort;
    navigate(href({ q: nextQ || undefined, sort: nextSort === "-created" ? undefined : nextSort }), { replace: true });
  };

  return (
    <Page title={q ? `Videos matching “${q}”` : "Videos"} wide>
      <form
        class="catalogue-tools"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          go({ q: draft.trim() });
        }}
      >
        <div class="field">
          <label for="video-search">Search videos</label>
          <div class="row">
            <input id="video-search" type="search" name="q" value={draft} maxLength={200} onInput={(e) => setDraft(e.currentTarget.value)} />
            <button type="submit">Search</button>
            {q && (
              <button type="button" class="secondary" onClick={() => go({ q: "" })}>
                Clear
              </button>
            )}
          </div>
        </div>
        <div class="field">
          <label for="video-sort">Sort by</label>
          <select id="video-sort" value={sort} onChange={(e) => go({ sort: e.currentTarget.value as Ordering })}>
            {ORDERINGS.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </form>

      {me.value && !q && <ContinueWatching />}

      <section aria-labelledby="all-title">
        <h2 id="all-title" class={q ? "visually-hidden" : undefined}>
          {q ? "Results" : "All videos"}
        </h2>
        {error ? (
          <div>
            <ErrorBox error={error} />
            <button type="button" class="secondary" onClick={() => setN((x) => x + 1)}>
              Try again
            </button>
          </div>
        ) : null}
        {items.length > 0 && (
          <ul class="grid" aria-busy={loading}>
            {items.map((v) => (
              <VideoCard key={v.id} video={v} />
            ))}
          </ul>
        )}
        {!loading && !error && items.length === 0 && <Empty>{q ? `No videos match “${q}”.` : "No videos yet."}</Empty>}
        {loading && <Loading label={items.length ? "Loading more videos…" : "Loading videos…"} />}
        <div ref={sentinel} class="sentinel" aria-hidden="true" />
        {next && !loading && (
          <p>
            <button type="button" class="secondary" onClick={() => void load(next)}>
              Load more
            </button>
          </p>
        )}
      </section>
    </Page>
  );
}
