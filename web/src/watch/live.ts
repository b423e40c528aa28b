/**
 * A video's live channel for its viewers (`GET /api/videos/{id}/live/`, Server-Sent Events): the
 * reaction counts (`snapshot` first, then `reactions`) and comments created, edited and deleted.
 * One EventSource per watch page, shared by the reactions and the comments. EventSource sends no
 * headers, so a private video's stream (its owner and staff only) carries the access token in
 * `?token=`, fresh on every reconnection; public and unlisted ones need none. The browser
 * reconnects a dropped stream itself (with Last-Event-ID); a refused one is reopened here with a
 * new token and `last_event_id`.
 */
import type { Paths } from "../api/client.js";
import { freshToken } from "../api/session.js";

export type Comment = Paths["/api/videos/{id}/comments/"]["get"]["responses"][200]["content"]["application/json"]["results"][number];
export type Reply = Comment["replies"][number];
export interface Counts {
  likes: number;
  dislikes: number;
}
export type CommentEvent =
  | { action: "created" | "edited"; comment: Reply & { replies?: Reply[] } }
  | { action: "deleted"; comment: { id: string; parent_id: string | null; placeholder: boolean } };

export interface Live {
  onCounts(cb: (c: Counts) => void): () => void;
  onComment(cb: (e: CommentEvent) => void): () => void;
  close(): void;
}

const RETRY_MS = 3000;

export function openLive(video: { id: string; visibility: string }): Live {
  const counts = new Set<(c: Counts) => void>();
  const comments = new Set<(e: CommentEvent) => void>();
  let es: EventSource | null = null;
  let closed = false;
  let lastSeq: number | null = null;
  let retry: number | undefined;

  const seen = (data: { seq?: unknown }) => {
    if (typeof data.seq === "number") lastSeq = data.seq;
  };
  /** An event's JSON, or null for a frame that is not (a proxy's keep-alive text): never a throw in the listener. */
  const parse = <T>(e: MessageEvent<string>): (T & { seq?: number }) | null => {
    try {
      return JSON.parse(e.data) as T & { seq?: number };
    } catch {
      return null;
    }
  };
  const open = async () => {
    const q = new URLSearchParams();
    if (video.visibility === "private") {
      const token = await freshToken();
      if (!token) return;
      q.set("token", token);
    }
    if (lastSeq !== null) q.set("last_event_id", String(lastSeq));
    if (closed) return;
    const qs = q.toString();
    const source = new EventSource(`/api/videos/${encodeURIComponent(video.id)}/live/${qs ? `?${qs}` : ""}`);
    es = source;
    const onCounts = (e: MessageEvent<string>) => {
      const data = parse<Counts>(e);
      if (!data) return;
      seen(data);
      counts.forEach((cb) => cb({ likes: data.likes, dislikes: data.dislikes }));
    };
    source.addEventListener("snapshot", onCounts);
    source.addEventListener("reactions", onCounts);
    source.addEventListener("comment", (e: MessageEvent<string>) => {
      const data = parse<CommentEvent>(e);
      if (!data) return;
      seen(data);
      comments.forEach((cb) => cb(data));
    });
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED && !closed) retry = window.setTimeout(() => void open(), RETRY_MS);
    });
  };
  void open();

  return {
    onCounts(cb) {
      counts.add(cb);
      return () => counts.delete(cb);
    },
    onComment(cb) {
      comments.add(cb);
      return () => comments.delete(cb);
    },
    close() {
      closed = true;
      window.clearTimeout(retry);
      es?.close();
    },
  };
}
