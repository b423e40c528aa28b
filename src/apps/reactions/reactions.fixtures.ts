/**
 * Test data for the reactions domain: playable videos inserted as rows (no conversion needed),
 * the six kinds of caller, a JSON-injecting helper, and a small SSE client over fetch.
 */
import type { Harness } from "../../test/app-harness.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { newId, nowIso } from "../../lib/ids.js";
import type { Visibility } from "../videos/index.js";
import type { Comment } from "./reactions.schemas.js";

export const VISIBILITIES: readonly Visibility[] = ["public", "unlisted", "private"];
export const CALLERS = ["anonymous", "guest", "user", "owner", "moderator", "admin"] as const;
export type Caller = (typeof CALLERS)[number];

export interface FixtureVideoOptions {
  visibility?: Visibility;
  durationS?: number | null;
  playable?: boolean;
  commentsEnabled?: boolean;
  id?: string;
}

/** A ready, playable video row (or one still converting with `playable: false`). */
export async function insertVideo(h: Pick<Harness, "ctx">, ownerId: string, o: FixtureVideoOptions = {}): Promise<string> {
  const now = nowIso();
  const id = o.id ?? newId();
  const playable = o.playable !== false;
  await h.ctx.db
    .insertInto("videos")
    .values({
      id,
      owner_id: ownerId,
      title: "Reactions fixture",
      description: "",
      visibility: o.visibility ?? "public",
      language: "en",
      original_filename: "clip.mp4",
      size_bytes: 1000,
      status: playable ? "ready" : "processing",
      playable: playable ? 1 : 0,
      failure_code: null,
      failure_message: null,
      progress: null,
      source_key: null,
      probe: null,
      duration_s: o.durationS === undefined ? 600 : o.durationS,
      media: null,
      chapters: null,
      poster_choice: null,
      custom_poster_key: null,
      views: 0,
      likes: 0,
      dislikes: 0,
      comments_enabled: o.commentsEnabled === false ? 0 : 1,
      pinned_comment_id: null,
      created_at: now,
      updated_at: now,
      published_at: playable ? now : null,
    })
    .execute();
  return id;
}

/** One account per kind of caller (none for anonymous); the owner is an uploader. */
export async function createCallers(h: Harness): Promise<Record<Exclude<Caller, "anonymous">, TestUser>> {
  return {
    guest: await createUser(h, { role: "guest" }),
    user: await createUser(h, { role: "user" }),
    owner: await createUser(h, { role: "uploader" }),
    moderator: await createUser(h, { role: "moderator" }),
    admin: await createUser(h, { role: "admin" }),
  };
}

export interface Call {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  url: string;
  as?: TestUser | null;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ErrorBody {
  error?: { code: string; message: string; details: unknown };
}

export interface Answer<T> {
  status: number;
  headers: Record<string, unknown>;
  json: T & ErrorBody;
}

/** Injects a request; a body is sent as JSON. Answers the status, headers and parsed JSON (typed by the caller). */
export async function call<T = Record<string, unknown>>(h: Harness, c: Call): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...(c.as ? authHeader(c.as.access) : {}), ...c.headers };
  let payload: string | Buffer | undefined;
  if (c.body !== undefined) {
    headers["content-type"] ??= "application/json";
    payload = typeof c.body === "string" || Buffer.isBuffer(c.body) ? c.body : JSON.stringify(c.body);
  }
  const res = await h.app.inject({ method: c.method, url: c.url, headers, ...(payload !== undefined ? { payload } : {}) });
  let json: unknown = null;
  if (res.body) {
    try {
      json = JSON.parse(res.body);
    } catch {
      json = res.body;
    }
  }
  return { status: res.statusCode, headers: res.headers, json: json as T & ErrorBody };
}

export async function postComment(h: Harness, videoId: string, as: TestUser, text: string, parentId?: string): Promise<Comment> {
  const r = await call<Comment>(h, { method: "POST", url: `/api/videos/${videoId}/comment/`, as, body: { text, ...(parentId ? { parent_id: parentId } : {}) } });
  if (r.status !== 201) throw new Error(`comment refused: ${r.status} ${JSON.stringify(r.json)}`);
  // Timestamps have millisecond resolution: a pause keeps the creation order unambiguous.
  await new Promise((resolve) => setTimeout(resolve, 2));
  return r.json;
}

/**
 * A comment stored directly (no visibility check): a third party's comment on a private video,
 * as if written before the video became private.
 */
export async function insertComment(h: Harness, videoId: string, authorId: string, text: string): Promise<string> {
  const id = newId();
  await h.domains.reactions.commentRepo.insert({ id, video_id: videoId, author_id: authorId, parent_id: null, text, deleted: 0, likes: 0, reply_count: 0, created_at: nowIso(), edited_at: null });
  return id;
}

/** The tests' SSE client, shared with the videos domain's live-event suite. */
export { SseClient, type SseMessage } from "../../test/sse-client.js";
