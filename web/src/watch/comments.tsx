/**
 * A video's comments: top-level comments (pinned first, then by the chosen order) with their
 * replies, posting, replying, editing and deleting one's own (the video's owner and moderators may
 * delete any), likes, and times in the text as links that seek the player. Other viewers'
 * comments arrive live over the video's channel (live.ts); one's own come back both from the POST
 * and from the channel, so every insertion is by id.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { describeError, sameOrigin } from "../api/client.js";
import { api, can, me } from "../api/session.js";
import { loginHref } from "../account/guard.js";
import { Empty, ErrorBox, Loading } from "../ui/components.js";
import { formatDate } from "../ui/format.js";
import type { VideoDetail } from "../player/player.js";
import type { Comment, CommentEvent, Live, Reply } from "./live.js";
import { TimeText } from "./text.js";

type Ordering = "-created" | "created" | "-likes";
const ORDERINGS: [Ordering, string][] = [
  ["-created", "Newest first"],
  ["created", "Oldest first"],
  ["-likes", "Most liked"],
];
const PAGE = 20;

interface Ctx {
  video: VideoDetail;
  onSeek: (s: number) => void;
  /** Every change made here or heard live goes through this one reducer. */
  apply: (e: CommentEvent) => void;
}

/** The list after one event: insert (by id, never twice), replace, remove or keep as a placeholder. */
export function applyEvent(list: Comment[], e: CommentEvent, ordering: Ordering, complete: boolean): Comment[] {
  const c = e.comment;
  if (e.action === "deleted") {
    const gone = (x: Reply) => x.id === c.id;
    if (!c.parent_id) {
      return e.comment.placeholder ? list.map((x) => (gone(x) ? { ...x, deleted: true, text: null, author: null } : x)) : list.filter((x) => !gone(x));
    }
    return list.map((x) => {
      if (x.id !== c.parent_id) return x;
      const replies = e.comment.placeholder ? x.replies.map((r) => (gone(r) ? { ...r, deleted: true, text: null, author: null } : r)) : x.replies.filter((r) => !gone(r));
      return { ...x, replies, reply_count: Math.max(0, x.reply_count - (replies.length < x.replies.length ? 1 : 0)) };
    });
  }
  const comment = e.comment;
  if (e.action === "edited") {
    const edit = <T extends Reply>(x: T): T => (x.id === comment.id ? { ...x, text: comment.text, edited: comment.edited, time_refs: comment.time_refs } : x);
    return list.map((x) => ({ ...edit(x), replies: x.replies.map(edit) }));
  }
  if (!comment.parent_id) {
    if (list.some((x) => x.id === comment.id)) return list;
    const top: Comment = { ...comment, replies: comment.replies ?? [] };
    if (ordering === "-created") {
      // After the pinned comment, which stays first.
      const pinned = list[0]?.pinned ? 1 : 0;
      return [...list.slice(0, pinned), top, ...list.slice(pinned)];
    }
    // Other orders: at the end, when the end is loaded (else it shows up on its own page).
    return complete ? [...list, top] : list;
  }
  return list.map((x) => {
    if (x.id !== comment.parent_id || x.replies.some((r) => r.id === comment.id)) return x;
    return { ...x, replies: [...x.replies, comment], reply_count: x.reply_count + 1 };
  });
}

function CommentForm(props: { label: string; submit: string; initial?: string; onSubmit: (text: string) => Promise<void>; onCancel?: () => void; id: string }) {
  const [text, setText] = useState(props.initial ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (props.onCancel) ref.current?.focus();
  }, []);
  return (
    <form
      class="comment-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!text.trim()) return;
        setBusy(true);
        setError(null);
        try {
          await props.onSubmit(text);
          setText("");
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label for={props.id}>{props.label}</label>
      <textarea id={props.id} ref={ref} name="text" value={text} maxLength={5000} required onInput={(e) => setText(e.currentTarget.value)} />
      <ErrorBox error={error} />
      <div class="row">
        <button type="submit" disabled={busy || !text.trim()}>
          {props.submit}
        </button>
        {props.onCancel && (
          <button type="button" class="secondary" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function CommentItem(props: { ctx: Ctx; comment: Reply; children?: ComponentChildren }) {
  const { ctx, comment: c } = props;
  const user = me.value;
  const [mode, setMode] = useState<"view" | "edit" | "reply" | "delete">("view");
  const [likes, setLikes] = useState({ n: c.likes, liked: false });
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setLikes((l) => ({ ...l, n: c.likes })), [c.likes]);
  const mine = !!user && c.author?.id === user.id;
  const mayDelete = !!user && !c.deleted && (mine || user.id === ctx.video.owner.id || can("moderate"));
  const open = ctx.video.comments_enabled && !c.deleted;
  const name = c.author?.username ?? "deleted";

  const like = async () => {
    setError(null);
    try {
      const r = likes.liked ? await api("delete", "/api/comments/{id}/like/", { params: { id: c.id } }) : await api("post", "/api/comments/{id}/like/", { params: { id: c.id }, body: {} });
      setLikes({ n: r.likes, liked: r.liked });
    } catch (err) {
      setError(describeError(err));
    }
  };
  const remove = async () => {
    setError(null);
    try {
      await api("delete", "/api/comments/{id}/", { params: { id: c.id } });
      // A comment with replies stays as a placeholder; the channel says which it was, and a
      // removal without replies is certain.
      const placeholder = !c.parent_id && c.reply_count > 0;
      ctx.apply({ action: "deleted", comment: { id: c.id, parent_id: c.parent_id, placeholder } });
    } catch (err) {
      setError(describeError(err));
      setMode("view");
    }
  };

  return (
    <li class={c.parent_id ? "comment reply" : "comment"} id={`comment-${c.id}`}>
      <article aria-label={c.deleted ? "Deleted comment" : `Comment by ${name}`}>
        <header class="comment-head">
          <strong>{c.deleted ? "[deleted]" : name}</strong> <time dateTime={c.created}>{formatDate(c.created)}</time>
          {c.edited && <span class="muted"> (edited)</span>}
          {c.pinned && <span class="badge">Pinned</span>}
        </header>
        {mode === "edit" ? (
          <CommentForm
            id={`edit-${c.id}`}
            label="Edit your comment"
            submit="Save"
            initial={c.text ?? ""}
            onCancel={() => setMode("view")}
            onSubmit={async (text) => {
              const r = await api("patch", "/api/comments/{id}/", { params: { id: c.id }, body: { text } });
              ctx.apply({ action: "edited", comment: r });
              setMode("view");
            }}
          />
        ) : (
          <p class="comment-text">{c.deleted ? <em>This comment was deleted.</em> : <TimeText text={c.text ?? ""} videoId={ctx.video.id} duration={ctx.video.duration} refs={c.time_refs} onSeek={ctx.onSeek} />}</p>
        )}
        {!c.deleted && (
          <div class="comment-actions row">
            {user ? (
              <button type="button" class="link" aria-pressed={likes.liked} onClick={() => void like()}>
                Like <span class="count">{likes.n}</span>
              </button>
            ) : (
              <span class="muted">{likes.n} likes</span>
            )}
            {user && open && (
              <button type="button" class="link" onClick={() => setMode(mode === "reply" ? "view" : "reply")} aria-expanded={mode === "reply"}>
                Reply
              </button>
            )}
            {mine && open && mode !== "edit" && (
              <button type="button" class="link" onClick={() => setMode("edit")}>
                Edit
              </button>
            )}
            {mayDelete &&
              (mode === "delete" ? (
                <span class="row" role="group" aria-label="Confirm deletion">
                  <button type="button" class="danger" onClick={() => void remove()}>
                    Yes, delete
                  </button>
                  <button type="button" class="secondary" onClick={() => setMode("view")}>
                    Keep it
                  </button>
                </span>
              ) : (
                <button type="button" class="link" onClick={() => setMode("delete")}>
                  Delete
                </button>
              ))}
          </div>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {mode === "reply" && (
          <CommentForm
            id={`reply-${c.id}`}
            label={`Reply to ${name}`}
            submit="Reply"
            onCancel={() => setMode("view")}
            onSubmit={async (text) => {
              // A reply to a reply belongs to the top-level comment (the API attaches it there too).
              const parent = c.parent_id ?? c.id;
              const r = await api("post", "/api/videos/{id}/comment/", { params: { id: ctx.video.id }, body: { text, parent_id: parent } });
              ctx.apply({ action: "created", comment: r });
              setMode("view");
            }}
          />
        )}
      </article>
      {props.children}
    </li>
  );
}

function Thread(props: { ctx: Ctx; comment: Comment }) {
  const { ctx, comment: c } = props;
  const [more, setMore] = useState<{ loading: boolean; error: unknown }>({ loading: false, error: null });
  const loadAll = async () => {
    setMore({ loading: true, error: null });
    try {
      let page = await api("get", "/api/comments/{id}/replies/", { params: { id: c.id }, query: { limit: 100 } });
      for (;;) {
        for (const r of page.results) ctx.apply({ action: "created", comment: r });
        if (!page.next) break;
        page = await api("get", "/api/comments/{id}/replies/", { params: { id: c.id }, url: sameOrigin(page.next) });
      }
      setMore({ loading: false, error: null });
    } catch (err) {
      setMore({ loading: false, error: err });
    }
  };
  const hidden = c.reply_count - c.replies.length;
  return (
    <CommentItem ctx={ctx} comment={c}>
      {(c.replies.length > 0 || hidden > 0) && (
        <ul class="replies" aria-label={`Replies to ${c.author?.username ?? "a deleted comment"}`}>
          {c.replies.map((r) => (
            <CommentItem key={r.id} ctx={ctx} comment={r} />
          ))}
        </ul>
      )}
      {hidden > 0 && (
        <button type="button" class="link more-replies" disabled={more.loading} onClick={() => void loadAll()}>
          {more.loading ? "Loading replies…" : `Show ${hidden} more ${hidden === 1 ? "reply" : "replies"}`}
        </button>
      )}
      <ErrorBox error={more.error} />
    </CommentItem>
  );
}

export function Comments(props: { video: VideoDetail; live: Live; onSeek: (s: number) => void }) {
  const { video } = props;
  const [ordering, setOrdering] = useState<Ordering>("-created");
  const [list, setList] = useState<Comment[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  // The reducer reads the current order and completeness, which live events must see too.
  const state = useRef({ ordering, complete: false });
  state.current = { ordering, complete: next === null && !loading };

  const apply = (e: CommentEvent) => setList((l) => applyEvent(l, e, state.current.ordering, state.current.complete));
  const ctx: Ctx = { video, onSeek: props.onSeek, apply };

  // A new order starts a new list: the late answer of the previous order (or of its "More
  // comments") must not replace or extend it.
  const generation = useRef(0);
  const load = async (url: string | null) => {
    const gen = url ? generation.current : ++generation.current;
    setLoading(true);
    setError(null);
    try {
      const page = url
        ? await api("get", "/api/videos/{id}/comments/", { params: { id: video.id }, url: sameOrigin(url) })
        : await api("get", "/api/videos/{id}/comments/", { params: { id: video.id }, query: { ordering, limit: PAGE } });
      if (gen !== generation.current) return;
      setList((l) => (url ? [...l, ...page.results.filter((c) => !l.some((x) => x.id === c.id))] : page.results));
      setNext(page.next);
    } catch (err) {
      if (gen === generation.current) setError(err);
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  };
  useEffect(() => void load(null), [video.id, ordering]);
  useEffect(() => props.live.onComment(apply), [props.live]);

  const user = me.value;
  return (
    <section class="comments" aria-labelledby="comments-title">
      <div class="page-head">
        <h2 id="comments-title">Comments</h2>
        <div class="field inline">
          <label for="comment-order">Sort comments</label>
          <select id="comment-order" value={ordering} onChange={(e) => setOrdering(e.currentTarget.value as Ordering)}>
            {ORDERINGS.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </div>
      {!video.comments_enabled ? (
        <p class="muted">Comments are turned off for this video.</p>
      ) : user ? (
        <CommentForm
          id="new-comment"
          label="Add a comment"
          submit="Post"
          onSubmit={async (text) => {
            const r = await api("post", "/api/videos/{id}/comment/", { params: { id: video.id }, body: { text } });
            ctx.apply({ action: "created", comment: r });
          }}
        />
      ) : (
        <p>
          <a href={loginHref()}>Sign in</a> to comment.
        </p>
      )}
      <ErrorBox error={error} />
      {list.length > 0 ? (
        <ul class="comment-list">
          {list.map((c) => (
            <Thread key={c.id} ctx={ctx} comment={c} />
          ))}
        </ul>
      ) : (
        !loading && !error && <Empty>No comments yet.</Empty>
      )}
      {loading && <Loading label="Loading comments…" />}
      {next && !loading && (
        <button type="button" class="secondary" onClick={() => void load(next)}>
          More comments
        </button>
      )}
    </section>
  );
}
