/**
 * Moderation (moderators and admins): the report queue with the reported comment or video,
 * resolved by dismissing or removing the content; recent comments across every video, with
 * delete; and every commenting block, newest first (block from a report or a comment, unblock
 * there or from the list, which loads again after each block).
 */
import { useState } from "preact/hooks";
import { BlockControl, ConfirmButton, blockedIds, blocksRevision, noteBlocked, unblock } from "../account/moderation-parts.js";
import { RequireRole } from "../account/guard.js";
import type { Paths } from "../api/client.js";
import { api } from "../api/session.js";
import { href, navigate } from "../router.js";
import { Empty, ErrorBox, Loading, Notice, Page } from "../ui/components.js";
import { usePaged } from "../ui/paged.js";
import { formatDate } from "../ui/format.js";

type ReportPage = Paths["/api/moderation/reports/"]["get"]["responses"][200]["content"]["application/json"];
type Report = ReportPage["results"][number];
type CommentPage = Paths["/api/comments/"]["get"]["responses"][200]["content"]["application/json"];
type Comment = CommentPage["results"][number];
type Status = Report["status"];
type BlockPage = Paths["/api/moderation/blocks/"]["get"]["responses"][200]["content"]["application/json"];
type BlockRow = BlockPage["results"][number];

const STATUSES: [Status, string][] = [
  ["open", "Open"],
  ["dismissed", "Dismissed"],
  ["removed", "Removed"],
];

function MoreButton(props: { next: string | null; busy: boolean; onClick: () => void; label: string }) {
  if (!props.next) return null;
  return (
    <p>
      <button type="button" class="secondary" disabled={props.busy} onClick={props.onClick}>
        {props.busy ? "Loading…" : props.label}
      </button>
    </p>
  );
}

function ReportedContent(props: { report: Report }) {
  const { video, comment } = props.report.content;
  const videoLink = video ? <a href={href("watch", video.id)}>{video.title}</a> : <span>a video that is gone</span>;
  if (props.report.target_kind === "video") {
    return <p>Video: {video ? videoLink : "the video is gone."}</p>;
  }
  if (!comment) return <p>The comment is gone (on {videoLink}).</p>;
  return (
    <figure class="account-quote">
      <blockquote>{comment.deleted || comment.text === null ? <em>(deleted comment)</em> : comment.text}</blockquote>
      <figcaption>
        {comment.author ? comment.author.username : "a deleted account"} on {videoLink}, {formatDate(comment.created)}
      </figcaption>
    </figure>
  );
}

function ReportItem(props: { report: Report; onResolved: (r: Report, action: "dismiss" | "remove") => void }) {
  const r = props.report;
  const resolve = async (action: "dismiss" | "remove") => {
    await api("post", "/api/moderation/reports/{id}/resolve/", { params: { id: r.id }, body: { action } });
    props.onResolved(r, action);
  };
  const kind = r.target_kind === "comment" ? "comment" : "video";
  const author = r.content.comment?.author;
  return (
    <li class="account-item">
      <h3 class="account-item-title">
        {kind === "comment" ? "Comment" : "Video"} reported for {r.reason}
      </h3>
      <p class="hint">
        By {r.reporter ? r.reporter.username : "a deleted account"}, {formatDate(r.created)}
        {r.resolved ? ` · ${r.status} ${formatDate(r.resolved)}` : ""}
      </p>
      {r.details && <p>Reporter’s note: {r.details}</p>}
      <ReportedContent report={r} />
      {r.status === "open" && (
        <div class="row">
          <ConfirmButton label="Dismiss report" confirm="Yes, dismiss it" class="secondary" onConfirm={() => resolve("dismiss")} />
          <ConfirmButton label={`Remove ${kind}`} confirm={`Yes, remove the ${kind}`} onConfirm={() => resolve("remove")} />
          {author && <BlockControl userId={author.id} username={author.username} idPrefix={`report-${r.id}`} />}
        </div>
      )}
    </li>
  );
}

/** `rev` changes when content went away elsewhere on the page: both lists then load again. */
type Section = { rev: number; onRemoved: () => void };

function Reports(props: { status: Status } & Section) {
  const [done, setDone] = useState<string | null>(null);
  const list = usePaged(
    () => api("get", "/api/moderation/reports/", { query: { status: props.status } }),
    (url) => api("get", "/api/moderation/reports/", { url }),
    [props.status, props.rev],
  );
  const resolved = (r: Report, action: "dismiss" | "remove") => {
    // Removing content closes every open report on it and changes the comment list: reload both.
    if (action === "remove") props.onRemoved();
    else list.drop((x) => x.id !== r.id);
    setDone(action === "remove" ? `The ${r.target_kind} was removed and its reports closed.` : "Report dismissed.");
  };
  return (
    <section aria-labelledby="mod-reports">
      <h2 id="mod-reports">Reports</h2>
      <div class="field account-inline-field">
        <label for="mod-status">Show reports</label>
        <select id="mod-status" value={props.status} onChange={(e) => navigate(href("moderation", { status: e.currentTarget.value === "open" ? undefined : e.currentTarget.value }), { replace: true })}>
          {STATUSES.map(([value, text]) => (
            <option value={value} key={value}>
              {text}
            </option>
          ))}
        </select>
      </div>
      {done && <Notice>{done}</Notice>}
      {list.loading && !list.data && <Loading label="Loading reports…" />}
      <ErrorBox error={list.error} />
      {!list.loading && !list.error && list.items.length === 0 && <Empty>{props.status === "open" ? "No open reports." : `No ${props.status} reports.`}</Empty>}
      {list.items.length > 0 && (
        <ul class="account-list" aria-label={`${STATUSES.find(([s]) => s === props.status)?.[1] ?? ""} reports`}>
          {list.items.map((r) => (
            <ReportItem report={r} key={r.id} onResolved={resolved} />
          ))}
        </ul>
      )}
      <ErrorBox error={list.moreError} />
      <MoreButton next={list.next} busy={list.loadingMore} onClick={() => void list.loadMore()} label="Load more reports" />
    </section>
  );
}

function CommentItem(props: { comment: Comment; onDeleted: () => void }) {
  const c = props.comment;
  return (
    <li class="account-item">
      <figure class="account-quote">
        <blockquote>{c.deleted || c.text === null ? <em>(deleted comment)</em> : c.text}</blockquote>
        <figcaption>
          {c.author ? c.author.username : "a deleted account"}, {formatDate(c.created)}
          {c.edited ? " (edited)" : ""}
          {c.parent_id ? ", a reply" : ""} · <a href={href("watch", c.video_id)}>open the video</a>
        </figcaption>
      </figure>
      {!c.deleted && (
        <div class="row">
          <ConfirmButton
            label="Delete comment"
            confirm="Yes, delete the comment"
            onConfirm={async () => {
              await api("delete", "/api/comments/{id}/", { params: { id: c.id } });
              props.onDeleted();
            }}
          />
          {c.author && <BlockControl userId={c.author.id} username={c.author.username} idPrefix={`comment-${c.id}`} />}
        </div>
      )}
    </li>
  );
}

function RecentComments(props: Section) {
  const [done, setDone] = useState<string | null>(null);
  const list = usePaged(
    () => api("get", "/api/comments/", { query: { limit: 20 } }),
    (url) => api("get", "/api/comments/", { url }),
    [props.rev],
  );
  return (
    <section aria-labelledby="mod-comments">
      <h2 id="mod-comments">Recent comments</h2>
      {done && <Notice>{done}</Notice>}
      {list.loading && !list.data && <Loading label="Loading comments…" />}
      <ErrorBox error={list.error} />
      {!list.loading && !list.error && list.items.length === 0 && <Empty>No comments yet.</Empty>}
      {list.items.length > 0 && (
        <ul class="account-list" aria-label="Recent comments, newest first">
          {list.items.map((c) => (
            <CommentItem
              comment={c}
              key={c.id}
              onDeleted={() => {
                // A comment with replies stays as a placeholder, and its reports closed: reload.
                props.onRemoved();
                setDone("Comment deleted.");
              }}
            />
          ))}
        </ul>
      )}
      <ErrorBox error={list.moreError} />
      <MoreButton next={list.next} busy={list.loadingMore} onClick={() => void list.loadMore()} label="Load more comments" />
    </section>
  );
}

function BlockItem(props: { block: BlockRow }) {
  const b = props.block;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const name = b.username ?? "a deleted account";
  const lift = async () => {
    setBusy(true);
    setError(null);
    try {
      await unblock(b.user_id);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <li class="account-item">
      <div class="row">
        <span>
          <strong>{name}</strong>, blocked {formatDate(b.created)}
          {b.reason ? `: ${b.reason}` : ""}
        </span>
        <button type="button" class="secondary" disabled={busy} onClick={() => void lift()}>
          {busy ? "Unblocking…" : `Unblock ${name}`}
        </button>
      </div>
      <ErrorBox error={error} />
    </li>
  );
}

const BLOCKS_PAGE = 20;

function Blocks() {
  const revision = blocksRevision.value;
  /** Notes a page's blocks unless a newer block made the page stale (a reload is on its way). */
  const noted = (first: boolean) => (page: BlockPage) => {
    if (blocksRevision.peek() === revision) noteBlocked(page.results.map((b) => b.user_id), first);
    return page;
  };
  const list = usePaged(
    () => api("get", "/api/moderation/blocks/", { query: { limit: BLOCKS_PAGE } }).then(noted(true)),
    (url) => api("get", "/api/moderation/blocks/", { url }).then(noted(false)),
    [revision],
  );
  // A block lifted here (in this list or from a report) leaves the list at once.
  const shown = list.items.filter((b) => blockedIds.value.has(b.user_id));
  return (
    <section aria-labelledby="mod-blocks">
      <h2 id="mod-blocks">Commenting blocks</h2>
      <p class="hint">Blocked accounts cannot comment anywhere; their existing comments stay. Newest first.</p>
      {list.loading && !list.data && <Loading label="Loading blocks…" />}
      <ErrorBox error={list.error} />
      {list.data && !list.error && shown.length === 0 && !list.next && <Empty>Nobody is blocked from commenting.</Empty>}
      {shown.length > 0 && (
        <ul class="account-list" aria-label="Blocked commenters">
          {shown.map((b) => (
            <BlockItem block={b} key={b.user_id} />
          ))}
        </ul>
      )}
      <ErrorBox error={list.moreError} />
      <MoreButton next={list.next} busy={list.loadingMore} onClick={() => void list.loadMore()} label="Load more blocks" />
    </section>
  );
}

export default function ModerationPage(props: { query: URLSearchParams }) {
  const q = props.query.get("status");
  const status: Status = q === "dismissed" || q === "removed" ? q : "open";
  const [rev, setRev] = useState(0);
  const removed = () => setRev((n) => n + 1);
  return (
    <RequireRole title="Moderation" right="moderate">
      <Page title="Moderation">
        <Reports status={status} rev={rev} onRemoved={removed} />
        <RecentComments rev={rev} onRemoved={removed} />
        <Blocks />
      </Page>
    </RequireRole>
  );
}
