/**
 * The upload queue: files picked or dropped on the Upload page, sent with tus (resumable) one or
 * two at a time, each followed through validation and conversion by its live events.
 *
 * The queue lives in this module, not in the page component: moving to another page of the app
 * must not stop an upload (only leaving or reloading the page does; the upload then resumes from
 * tus-js-client's stored URL when the same file is picked again).
 */
import { effect, signal, type Signal } from "@preact/signals";
import * as tus from "tus-js-client";
import { freshToken, me } from "../api/session.js";
import { applyEvent, followVideo, initialState, isSettled, type VideoLiveState } from "../api/video-events.js";
import { describeUploadError, errorCode } from "./failures.js";

/** At most this many files are sent at once: more would only share the same uplink. */
export const MAX_PARALLEL = 2;
/**
 * One PATCH per 16 MiB: a proxy's body limit or idle timeout then costs at most a chunk, and the
 * server's offset (what a resume continues from) advances at least that often.
 */
const CHUNK_SIZE = 16 * 1024 * 1024;
const RETRY_DELAYS = [0, 1_000, 3_000, 5_000, 10_000];
/** Rate over the last seconds: long enough to smooth bursts, short enough to follow a change. */
const RATE_WINDOW_MS = 3_000;

/**
 * Absolute, so the fingerprint (which includes it) and the stored upload URLs are the same
 * whatever page path the app is on.
 */
export const uploadEndpoint = (): string => new URL("/api/videos/upload/", window.location.href).href;

export type Visibility = "public" | "unlisted" | "private";
export interface ItemFields {
  title: string;
  description: string;
  visibility: Visibility;
  language: string;
}

/**
 * draft: details can be edited; waiting: queued behind others; starting: creating or resuming
 * (POST/HEAD); uploading; paused; server: every byte is there, the server validates and converts;
 * failed: refused (see `error`).
 */
export type Phase = "draft" | "waiting" | "starting" | "uploading" | "paused" | "server" | "failed";

/** An earlier upload of the same file (same name, size, type and date) that the server still has. */
export interface Previous {
  stored: tus.PreviousUpload;
  offset: number;
  length: number;
  videoId: string | null;
}

export interface ItemState {
  phase: Phase;
  fields: ItemFields;
  /** bytes the browser has sent (the server's offset after a resume) */
  sent: number;
  total: number;
  /** bytes per second over the last seconds, while uploading */
  rate: number | null;
  eta: number | null;
  /** looking for an earlier upload of this file */
  checking: boolean;
  previous: Previous | null;
  /** the offset this session continued from (after a pause or a reload), null for a fresh start */
  resumedFrom: number | null;
  uploadUrl: string | null;
  videoId: string | null;
  /** the server's side, from the video's events */
  server: VideoLiveState | null;
  /** the refusal in words */
  error: string | null;
  /** a later attempt may work (network, limits) */
  retryable: boolean;
}

/** Codes after which the same file can be tried again (the cause may go away). */
const RETRYABLE = new Set(["too_many_uploads", "conversion_queue_full", "quota_exceeded", "insufficient_storage", "upload_locked", "offset_mismatch", "checksum_mismatch", "not_authenticated", "token_revoked", "upload_not_found", "upload_expired"]);

const stemOf = (name: string): string => name.replace(/\.[A-Za-z0-9]{1,5}$/, "").trim().slice(0, 200);
const toVisibility = (v: string | undefined): Visibility => (v === "unlisted" || v === "private" ? v : "public");

/** The server's view of an upload URL (HEAD with the bearer token). */
export async function headUpload(url: string): Promise<{ kind: "live"; offset: number; length: number; videoId: string | null } | { kind: "gone" } | { kind: "unknown" }> {
  // The URL comes from localStorage, which any script of the origin can write: the bearer token
  // goes to this API's upload endpoint only.
  if (!url.startsWith(uploadEndpoint())) return { kind: "unknown" };
  const token = await freshToken();
  let res: Response;
  try {
    res = await fetch(url, { method: "HEAD", cache: "no-store", credentials: "same-origin", headers: { "Tus-Resumable": "1.0.0", ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  } catch {
    return { kind: "unknown" };
  }
  if (res.ok) {
    const offset = Number.parseInt(res.headers.get("upload-offset") ?? "", 10);
    const length = Number.parseInt(res.headers.get("upload-length") ?? "", 10);
    if (Number.isFinite(offset) && Number.isFinite(length)) return { kind: "live", offset, length, videoId: res.headers.get("video-id") };
    return { kind: "unknown" };
  }
  // 410: expired; 413/415: refused for good. A 404 may be another account's upload on this
  // browser (the storage is per origin, not per user): left alone.
  return res.status === 410 || res.status === 413 || res.status === 415 ? { kind: "gone" } : { kind: "unknown" };
}

const authorize = async (req: tus.HttpRequest): Promise<void> => {
  // Every request asks: a long upload outlives one access token.
  const token = await freshToken();
  if (token) req.setHeader("Authorization", `Bearer ${token}`);
};

let counter = 0;

export class UploadItem {
  readonly key = `u${++counter}`;
  readonly state: Signal<ItemState>;
  private upload: tus.Upload | null = null;
  private stopEvents: (() => void) | null = null;
  private samples: [number, number][] = [];
  private readonly checked: Promise<void>;

  constructor(
    readonly file: File,
    private readonly changed: () => void,
  ) {
    this.state = signal<ItemState>({
      phase: "draft",
      fields: { title: stemOf(file.name) || "Untitled video", description: "", visibility: "public", language: "" },
      sent: 0,
      total: file.size,
      rate: null,
      eta: null,
      checking: true,
      previous: null,
      resumedFrom: null,
      uploadUrl: null,
      videoId: null,
      server: null,
      error: null,
      retryable: false,
    });
    this.checked = this.lookForPrevious().finally(() => this.set({ checking: false }));
  }

  get s(): ItemState {
    return this.state.peek();
  }

  private set(patch: Partial<ItemState>): void {
    const before = this.state.peek().phase;
    this.state.value = { ...this.state.peek(), ...patch };
    if (patch.phase !== undefined && patch.phase !== before) this.changed();
  }

  setFields(patch: Partial<ItemFields>): void {
    this.set({ fields: { ...this.s.fields, ...patch } });
  }

  /** tus-js-client's stored URLs for this file's fingerprint, newest first, that the server still has. */
  private async lookForPrevious(): Promise<void> {
    const probe = new tus.Upload(this.file, { endpoint: uploadEndpoint() });
    const found = (await probe.findPreviousUploads().catch(() => [])).sort((a, b) => b.creationTime.localeCompare(a.creationTime));
    for (const stored of found) {
      if (!stored.uploadUrl) continue;
      // The same file picked twice: the other item is sending to that URL already.
      if (queue.peek().some((i) => i !== this && (i.s.uploadUrl === stored.uploadUrl || i.s.previous?.stored.urlStorageKey === stored.urlStorageKey))) continue;
      const head = await headUpload(stored.uploadUrl);
      // Complete already (the page closed before tus-js-client forgot it): nothing to resume.
      const done = head.kind === "live" && head.offset >= head.length;
      if (head.kind === "gone" || done) await tus.defaultOptions.urlStorage.removeUpload(stored.urlStorageKey);
      if (head.kind !== "live" || done || head.length !== this.file.size) continue;
      const m = stored.metadata;
      // The video was created with the details given then; they are shown, not editable.
      this.set({
        previous: { stored, offset: head.offset, length: head.length, videoId: head.videoId },
        sent: head.offset,
        fields: { title: m.title ?? this.s.fields.title, description: m.description ?? "", visibility: toVisibility(m.visibility), language: m.language ?? "" },
      });
      return;
    }
  }

  /** Forget the earlier upload and start from the first byte (its partial data is deleted). */
  async startOver(): Promise<void> {
    const p = this.s.previous;
    if (!p) return;
    this.set({ previous: null, sent: 0, fields: { ...this.s.fields, title: this.s.fields.title || stemOf(this.file.name) } });
    if (p.stored.uploadUrl) await tus.Upload.terminate(p.stored.uploadUrl, { onBeforeRequest: authorize }).catch(() => undefined);
    await tus.defaultOptions.urlStorage.removeUpload(p.stored.urlStorageKey);
  }

  /** Into the queue (from draft, or again after a retryable failure). */
  enqueue(): void {
    if (this.s.phase === "draft" || (this.s.phase === "failed" && this.s.retryable)) this.set({ phase: "waiting", error: null });
  }

  /** Called by the queue when a slot is free. */
  async begin(): Promise<void> {
    this.set({ phase: "starting", error: null, rate: null, eta: null });
    await this.checked;
    if (this.s.phase !== "starting") return;
    // A retry after a refusal at creation has no URL yet: a new tus.Upload; else the same one resumes.
    if (!this.upload) {
      this.upload = new tus.Upload(this.file, this.options());
      const p = this.s.previous;
      if (p) this.upload.resumeFromPreviousUpload(p.stored);
      if (p?.videoId) this.watch(p.videoId);
    }
    this.samples = [];
    this.upload.start();
  }

  pause(): void {
    if (this.s.phase !== "uploading" && this.s.phase !== "starting") return;
    // No terminate: the server keeps what it received, and resume() asks it for the offset.
    void this.upload?.abort();
    this.set({ phase: "paused", rate: null, eta: null });
  }

  resume(): void {
    if (this.s.phase !== "paused" || !this.upload) return;
    this.samples = [];
    this.set({ phase: "starting", error: null });
    this.upload.start();
  }

  /** Stops and deletes the upload on the server (its video too). */
  async cancel(): Promise<void> {
    this.unwatch();
    const up = this.upload;
    this.upload = null;
    if (up) await up.abort(true).catch(() => undefined);
    else await this.startOver();
  }

  dispose(): void {
    this.unwatch();
    if (this.s.phase === "uploading" || this.s.phase === "starting") void this.upload?.abort();
  }

  private metadata(): Record<string, string> {
    const f = this.s.fields;
    // Empty values are left out: the server then derives the title from the filename.
    const m: Record<string, string> = { filename: this.file.name, filetype: this.file.type, title: f.title.trim(), visibility: f.visibility };
    if (f.description.trim()) m.description = f.description;
    if (f.language.trim()) m.language = f.language.trim();
    return Object.fromEntries(Object.entries(m).filter(([, v]) => v !== ""));
  }

  private options(): tus.UploadOptions {
    return {
      endpoint: uploadEndpoint(),
      chunkSize: CHUNK_SIZE,
      retryDelays: RETRY_DELAYS,
      removeFingerprintOnSuccess: true,
      metadata: this.metadata(),
      onBeforeRequest: authorize,
      onAfterResponse: (req, res) => {
        const videoId = res.getHeader("Video-Id");
        if (videoId) this.watch(videoId);
        if (req.getMethod() === "HEAD" && res.getStatus() === 200) {
          // Resuming: the server's offset is where this session continues.
          const offset = Number.parseInt(res.getHeader("Upload-Offset") ?? "", 10);
          if (Number.isFinite(offset)) this.set({ resumedFrom: offset, sent: offset });
        }
      },
      onUploadUrlAvailable: () => this.set({ uploadUrl: this.upload?.url ?? null }),
      onProgress: (sent, total) => this.progress(sent, total),
      onSuccess: () => {
        this.set({ phase: "server", sent: this.file.size, rate: null, eta: null, previous: null });
        if (this.s.server && isSettled(this.s.server.status)) this.unwatch();
      },
      onError: (err) => void this.failed(err),
    };
  }

  private progress(sent: number, total: number): void {
    if (this.s.phase !== "starting" && this.s.phase !== "uploading") return;
    const now = performance.now();
    this.samples.push([now, sent]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > RATE_WINDOW_MS) this.samples.shift();
    const [t0, b0] = this.samples[0]!;
    // Half a second of samples at least: a first burst into the socket buffer is not a rate.
    const rate = now - t0 >= 500 ? ((sent - b0) * 1000) / (now - t0) : null;
    this.set({ phase: "uploading", sent, total, rate, eta: rate && rate > 0 ? (total - sent) / rate : null });
  }

  private async failed(err: Error): Promise<void> {
    const code = errorCode(err);
    const retryable = code === null || RETRYABLE.has(code);
    this.set({ phase: "failed", error: describeUploadError(err), retryable, rate: null, eta: null });
    if (!retryable) {
      // Refused for good: the stored URL would only be refused again.
      this.unwatch();
      const url = this.upload?.url;
      const stored = await this.upload?.findPreviousUploads().catch(() => []);
      for (const s of stored ?? []) if (s.uploadUrl === url) await tus.defaultOptions.urlStorage.removeUpload(s.urlStorageKey);
      this.upload = null;
    } else if (!this.upload?.url) {
      // Nothing was created: the next attempt starts afresh.
      this.upload = null;
    }
  }

  private watch(videoId: string): void {
    if (this.stopEvents && this.s.videoId === videoId) return;
    this.unwatch();
    this.set({ videoId, server: this.s.server ?? initialState() });
    this.stopEvents = followVideo(videoId, (e) => {
      const next = applyEvent(this.s.server ?? initialState(), e);
      this.set({ server: next });
      // Once every byte is in and the pipeline is done, nothing more will come.
      if (this.s.phase === "server" && isSettled(next.status)) this.unwatch();
    });
  }

  private unwatch(): void {
    this.stopEvents?.();
    this.stopEvents = null;
  }
}

/** Every file of this page's session, in the order picked. */
export const queue = signal<UploadItem[]>([]);

function pump(): void {
  let active = queue.peek().filter((i) => i.s.phase === "starting" || i.s.phase === "uploading").length;
  for (const item of queue.peek()) {
    if (active >= MAX_PARALLEL) break;
    if (item.s.phase === "waiting") {
      active++;
      void item.begin();
    }
  }
}

export function addFiles(files: Iterable<File>): UploadItem[] {
  const added = [...files].map((f) => new UploadItem(f, () => queueMicrotask(pump)));
  queue.value = [...queue.peek(), ...added];
  return added;
}

export function startAll(): void {
  for (const item of queue.peek()) if (item.s.phase === "draft") item.enqueue();
}

export function removeItem(item: UploadItem): void {
  item.dispose();
  queue.value = queue.peek().filter((i) => i !== item);
  pump();
}

export async function cancelItem(item: UploadItem): Promise<void> {
  await item.cancel();
  queue.value = queue.peek().filter((i) => i !== item);
  pump();
}

/** An upload stored by tus-js-client on this browser that the server still has, with how far it got. */
export interface Resumable {
  stored: tus.PreviousUpload;
  offset: number;
  length: number;
}

/** Every stored upload the signed-in user can resume (another account's answer 404 and are skipped). */
export async function findResumable(): Promise<Resumable[]> {
  const all = await tus.defaultOptions.urlStorage.findAllUploads().catch(() => []);
  const out: Resumable[] = [];
  for (const stored of all) {
    if (!stored.uploadUrl || !stored.uploadUrl.startsWith(uploadEndpoint())) continue;
    const head = await headUpload(stored.uploadUrl);
    if (head.kind === "gone") await tus.defaultOptions.urlStorage.removeUpload(stored.urlStorageKey);
    if (head.kind === "live" && head.offset < head.length) out.push({ stored, offset: head.offset, length: head.length });
  }
  return out.sort((a, b) => b.stored.creationTime.localeCompare(a.stored.creationTime));
}

/** Deletes a stored upload on the server and forgets it here. */
export async function discardResumable(r: Resumable): Promise<void> {
  if (r.stored.uploadUrl) await tus.Upload.terminate(r.stored.uploadUrl, { onBeforeRequest: authorize }).catch(() => undefined);
  await tus.defaultOptions.urlStorage.removeUpload(r.stored.urlStorageKey);
}

const sending = () => queue.peek().some((i) => i.s.phase === "uploading" || i.s.phase === "starting");

// Leaving the page pauses every upload (the browser drops the requests): ask first.
window.addEventListener("beforeunload", (e) => {
  if (sending()) e.preventDefault();
});

// Signing out stops the uploads: the next requests would be refused anyway.
effect(() => {
  if (me.value === null) for (const item of queue.peek()) item.pause();
});
