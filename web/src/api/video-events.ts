/**
 * Follows one video's live events (upload bytes, validation, queue place, conversion progress,
 * the end state) for its owner, moderators and admins.
 *
 * The WebSocket `/ws/videos/{id}/` is the transport: a page following several videos (My videos,
 * two uploads at once) would otherwise spend one of the browser's six HTTP/1.1 connections per
 * host on each EventSource, and the uploads and API calls would queue behind them. The
 * Server-Sent Events stream `GET /api/videos/{id}/events/` is the fallback when a socket never
 * opens (a proxy that does not pass upgrades). Neither can send an Authorization header from a
 * browser, so the access token goes in `?token=`, fresh on every (re)connection; the last seq
 * seen is sent back (`last_seq` / `last_event_id`) so a reconnect replays what was missed.
 */
import { freshToken, refreshSession } from "./session.js";

/** What the API says of a video's pipeline (the detail's `progress`). */
export interface VideoProgress {
  step: string;
  percent: number;
  bytes_received: number | null;
  eta_s: number | null;
  queue_position: number | null;
}

interface Base {
  video_id: string;
  seq: number;
  at: string;
}

export type VideoEvent = Base &
  (
    | { type: "snapshot"; status: string; playable: boolean; progress: VideoProgress | null; failure_code: string | null; failure_message: string | null }
    | { type: "upload"; bytes_received: number; total: number; percent: number; rate_bytes_per_s: number; eta_s: number | null }
    | { type: "status"; status: string; playable?: boolean; failure_code?: string | null; failure_message?: string | null; attempt?: number }
    | { type: "queued"; queue_position: number | null }
    | { type: "processing"; step: string; percent: number; eta_s: number | null }
    | { type: "playable"; playable: boolean; hls_url?: string }
    | { type: "retrying"; failure_code: string; message: string }
    | { type: "updated"; fields: string[] }
    | { type: "deleted" }
  );

export type VideoEventType = VideoEvent["type"];
const EVENT_TYPES: readonly VideoEventType[] = ["snapshot", "upload", "status", "queued", "processing", "playable", "retrying", "updated", "deleted"];
const isKnown = (t: unknown): t is VideoEventType => typeof t === "string" && (EVENT_TYPES as readonly string[]).includes(t);

/** A video's pipeline state as the events leave it. */
export interface VideoLiveState {
  status: string;
  playable: boolean;
  progress: VideoProgress | null;
  failure_code: string | null;
  failure_message: string | null;
  /** the last `upload` event (bytes the server has), while uploading */
  upload: { percent: number; bytes_received: number; total: number; rate_bytes_per_s: number; eta_s: number | null } | null;
  /** a retry in progress after a failed conversion attempt */
  retrying: string | null;
  deleted: boolean;
}

export function initialState(v: Partial<Pick<VideoLiveState, "status" | "playable" | "progress" | "failure_code" | "failure_message">> = {}): VideoLiveState {
  return {
    status: v.status ?? "uploading",
    playable: v.playable ?? false,
    progress: v.progress ?? null,
    failure_code: v.failure_code ?? null,
    failure_message: v.failure_message ?? null,
    upload: null,
    retrying: null,
    deleted: false,
  };
}

/** The state after one event (pure: the pages keep it in a signal or a hook). */
export function applyEvent(s: VideoLiveState, e: VideoEvent): VideoLiveState {
  switch (e.type) {
    case "snapshot":
      return { ...s, status: e.status, playable: e.playable, progress: e.progress, failure_code: e.failure_code, failure_message: e.failure_message, retrying: null };
    case "upload":
      return { ...s, status: "uploading", upload: e, progress: { step: "uploading", percent: e.percent, bytes_received: e.bytes_received, eta_s: e.eta_s, queue_position: null } };
    case "status":
      return {
        ...s,
        status: e.status,
        playable: e.playable ?? s.playable,
        failure_code: e.failure_code ?? (e.status === "failed" ? s.failure_code : null),
        failure_message: e.failure_message ?? (e.status === "failed" ? s.failure_message : null),
        progress: progressAfterStatus(s.progress, e.status),
        retrying: e.status === "processing" ? s.retrying : null,
      };
    case "queued":
      return { ...s, status: "queued", progress: { step: "queued", percent: 0, bytes_received: null, eta_s: null, queue_position: e.queue_position } };
    case "processing":
      return { ...s, status: "processing", progress: { step: e.step, percent: e.percent, bytes_received: null, eta_s: e.eta_s, queue_position: null }, retrying: null };
    case "playable":
      return { ...s, playable: true };
    case "retrying":
      return { ...s, retrying: e.message || e.failure_code };
    case "updated":
      return s;
    case "deleted":
      return { ...s, deleted: true };
  }
}

/** A new phase: the previous phase's numbers no longer apply (a queue place is kept while queued). */
function progressAfterStatus(p: VideoProgress | null, status: string): VideoProgress | null {
  if (status === "queued") return { step: "queued", percent: 0, bytes_received: null, eta_s: null, queue_position: p?.step === "queued" ? p.queue_position : null };
  if (status === "processing" && p && p.step !== "queued" && p.step !== "uploading") return p;
  return null;
}

export interface FollowOptions {
  /** "ws" (default) or "sse"; "ws" falls back to SSE when no socket ever opens. */
  transport?: "ws" | "sse";
  /** the stream cannot go on: not allowed (403), no such video (404), signed out */
  onEnd?: (reason: "deleted" | "refused" | "signed_out") => void;
}

const RETRY_MS = [1_000, 2_000, 5_000, 10_000];

/**
 * Delivers the video's events to `onEvent` until the returned function is called, the video is
 * deleted, or access is refused. Reconnects by itself (with a fresh token, resuming after the
 * last seq). A fresh connection starts with a `snapshot`.
 */
export function followVideo(id: string, onEvent: (e: VideoEvent) => void, opts: FollowOptions = {}): () => void {
  let transport = opts.transport ?? "ws";
  let lastSeq: number | null = null;
  let stopped = false;
  let attempt = 0;
  let everOpened = false;
  let refreshedFor401 = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closeCurrent: (() => void) | null = null;

  const deliver = (raw: unknown) => {
    if (stopped || typeof raw !== "object" || raw === null) return;
    const e = raw as VideoEvent;
    if (!isKnown(e.type)) return;
    // Every event's seq, a snapshot's too: after a restarted sequence the snapshot carries the new numbering.
    if (typeof e.seq === "number") lastSeq = e.seq;
    onEvent(e);
    if (e.type === "deleted") end("deleted");
  };

  const end = (reason: "deleted" | "refused" | "signed_out") => {
    if (stopped) return;
    stop();
    opts.onEnd?.(reason);
  };

  const retry = () => {
    if (stopped) return;
    const delay = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]!;
    attempt++;
    timer = setTimeout(() => void connect(), delay);
  };

  const connect = async () => {
    timer = null;
    const token = await freshToken();
    if (stopped) return;
    if (!token) return end("signed_out");
    if (transport === "ws") connectWs(token);
    else connectSse(token);
  };

  const connectWs = (token: string) => {
    const url = new URL(`/ws/videos/${encodeURIComponent(id)}/`, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", token);
    if (lastSeq !== null) url.searchParams.set("last_seq", String(lastSeq));
    let ws: WebSocket;
    try {
      ws = new WebSocket(url.href);
    } catch {
      transport = "sse";
      return retry();
    }
    let opened = false;
    closeCurrent = () => ws.close(1000);
    ws.addEventListener("open", () => {
      opened = everOpened = true;
      attempt = 0;
    });
    ws.addEventListener("message", (m: MessageEvent) => {
      if (typeof m.data !== "string") return;
      try {
        deliver(JSON.parse(m.data));
      } catch {
        // not JSON: nothing this follower understands
      }
    });
    ws.addEventListener("close", (c: CloseEvent) => {
      closeCurrent = null;
      if (stopped) return;
      if (c.code === 4401 && !refreshedFor401) {
        // the token in the URL expired or was revoked: one refresh, then try again
        refreshedFor401 = true;
        void refreshSession().then((ok) => (ok ? void connect() : end("signed_out")));
        return;
      }
      if (c.code === 4401) return end("signed_out");
      if (c.code === 4403 || c.code === 4404) return end("refused");
      if (c.code === 1000 && c.reason === "video_deleted") return end("deleted");
      if (opened) refreshedFor401 = false;
      // A socket that never opened, twice, is a network path without WebSocket: use SSE.
      if (!opened && !everOpened && attempt >= 1) transport = "sse";
      retry();
    });
  };

  const connectSse = (token: string) => {
    const q = new URLSearchParams({ token });
    if (lastSeq !== null) q.set("last_event_id", String(lastSeq));
    const es = new EventSource(`/api/videos/${encodeURIComponent(id)}/events/?${q}`);
    closeCurrent = () => es.close();
    es.addEventListener("open", () => {
      attempt = 0;
    });
    for (const type of EVENT_TYPES) {
      es.addEventListener(type, (m: MessageEvent<string>) => {
        try {
          deliver(JSON.parse(m.data));
        } catch {
          // not JSON: ignored
        }
      });
    }
    es.addEventListener("error", () => {
      // EventSource reconnects by itself with the same URL (and token); once it gives up
      // (CLOSED: the token expired, 4xx), reconnect with a fresh token and the last seq.
      if (es.readyState === EventSource.CLOSED && !stopped) {
        closeCurrent = null;
        retry();
      }
    });
  };

  const stop = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    closeCurrent?.();
    closeCurrent = null;
  };

  void connect();
  return stop;
}

/** True once nothing more will happen to the video by itself. */
export const isSettled = (status: string): boolean => status === "ready" || status === "failed";
