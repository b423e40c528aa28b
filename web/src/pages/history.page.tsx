/**
 * `#/history`: continue watching, latest first, each with how far it was watched; remove one,
 * clear all (after a confirmation in place), and pause the history (no positions are recorded
 * while paused; `PUT /api/users/me/history/settings/`).
 */
import { useEffect, useState } from "preact/hooks";
import { describeError, sameOrigin, type Paths } from "../api/client.js";
import { api } from "../api/session.js";
import { RequireSignIn } from "../account/guard.js";
import { href } from "../router.js";
import { Empty, ErrorBox, Loading, Notice, Page } from "../ui/components.js";
import { formatDate, formatDuration } from "../ui/format.js";

type Item = Paths["/api/users/me/history/"]["get"]["responses"][200]["content"]["application/json"]["results"][number];

function PauseSetting() {
  const [paused, setPaused] = useState<boolean | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api("get", "/api/users/me/history/settings/")
      .then((s) => setPaused(s.paused))
      .catch((err: unknown) => setError(describeError(err)));
  }, []);
  const change = async (value: boolean) => {
    setError(null);
    try {
      setPaused((await api("put", "/api/users/me/history/settings/", { body: { paused: value } })).paused);
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <div class="history-setting">
      <label class="check">
        <input type="checkbox" name="paused" checked={paused === true} disabled={paused === null} onChange={(e) => void change(e.currentTarget.checked)} /> Pause history
      </label>
      <small class="hint">{paused ? "Nothing you watch is recorded now." : "Where you stop is kept, so you can continue later."}</small>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function History() {
  const [items, setItems] = useState<Item[]>([]);
  const [count, setCount] = useState(0);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  const [notice, setNotice] = useState("");

  const load = async (url: string | null) => {
    setLoading(true);
    setError(null);
    try {
      const page = url ? await api("get", "/api/users/me/history/", { url: sameOrigin(url) }) : await api("get", "/api/users/me/history/", { query: { limit: 20 } });
      setItems((old) => (url ? [...old, ...page.results.filter((h) => !old.some((o) => o.video.id === h.video.id))] : page.results));
      setCount(page.count);
      setNext(page.next);
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(null), []);

  const remove = async (item: Item) => {
    setError(null);
    try {
      await api("delete", "/api/users/me/history/{video_id}/", { params: { video_id: item.video.id } });
      setItems((l) => l.filter((h) => h.video.id !== item.video.id));
      setCount((c) => Math.max(0, c - 1));
      setNotice(`Removed “${item.video.title}” from your history.`);
    } catch (err) {
      setError(err);
    }
  };
  const clear = async () => {
    setError(null);
    try {
      await api("delete", "/api/users/me/history/");
      setItems([]);
      setCount(0);
      setNext(null);
      setConfirming(false);
      setNotice("Your history is cleared.");
    } catch (err) {
      setError(err);
    }
  };

  return (
    <Page
      title="History"
      actions={
        items.length > 0 &&
        (confirming ? (
          <div class="row" role="group" aria-label="Clear the whole history?">
            <span>
              Clear all {count} {count === 1 ? "video" : "videos"}?
            </span>
            <button type="button" class="danger" onClick={() => void clear()}>
              Yes, clear all
            </button>
            <button type="button" class="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        ) : (
          <button type="button" class="danger" onClick={() => setConfirming(true)}>
            Clear history
          </button>
        ))
      }
    >
      <PauseSetting />
      {notice && <Notice>{notice}</Notice>}
      <ErrorBox error={error} />
      {items.length > 0 && (
        <ul class="history-list">
          {items.map((h) => {
            const d = h.duration ?? h.video.duration;
            const resume = h.finished ? undefined : Math.floor(h.position) || undefined;
            return (
              <li key={h.video.id} class="history-item">
                <a class="history-thumb" href={href("watch", h.video.id, { t: resume })} tabIndex={-1} aria-hidden="true">
                  {h.video.poster ? <img src={h.video.poster} alt="" loading="lazy" /> : <div class="no-poster" />}
                </a>
                <div class="history-meta">
                  <h2 class="title">
                    <a href={href("watch", h.video.id, { t: resume })}>{h.video.title}</a>
                  </h2>
                  <progress class="progress" max={d ?? 1} value={Math.min(h.position, d ?? h.position)} aria-label={`Watched ${formatDuration(h.position)} of ${formatDuration(d)}`} />
                  <p class="sub">
                    {h.finished ? "Watched" : `${formatDuration(h.position)} of ${formatDuration(d)}`} · {formatDate(h.updated)}
                  </p>
                </div>
                <button type="button" class="secondary" onClick={() => void remove(h)} aria-label={`Remove “${h.video.title}” from history`}>
                  Remove
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {!loading && !error && items.length === 0 && <Empty>Nothing here yet: the videos you watch show up here, to continue where you stopped.</Empty>}
      {loading && <Loading />}
      {next && !loading && (
        <button type="button" class="secondary" onClick={() => void load(next)}>
          Load more
        </button>
      )}
    </Page>
  );
}

export default function HistoryPage() {
  return (
    <RequireSignIn title="History">
      <History />
    </RequireSignIn>
  );
}
