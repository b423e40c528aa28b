/**
 * This process's side of the fan-out: the devices connected here, grouped by session and by
 * video. Whatever the number of local devices, a session costs one hub subscription and a video
 * one subscription to the viewers' live channel; each message is parsed and serialized once and
 * written to every local socket (a 1,000-device room serializes a state change once, not 1,000
 * times). State messages carry their version, and a device never receives an older version than
 * one it already got, whatever order the processes' publishes arrive in.
 */
import type { Logger } from "pino";
import { notFound } from "../../lib/errors.js";
import type { EventBus } from "../../platform/events/events.js";
import type { SessionStore, SessionRef, SessionMessage, MemberRecord } from "./session-store.js";
import { parseStored, toView, type StoredState } from "./playback-state.js";
import type { Viewer, WatchedVideo } from "./viewer-access.js";

/** One connected device (a WebSocket, or an SSE stream of the HTTP fallback). */
export interface Participant {
  readonly id: string;
  readonly device: string;
  readonly viewer: Viewer;
  readonly transport: "ws" | "http";
  readonly ref: SessionRef;
  readonly watched: WatchedVideo;
  readonly canControl: boolean;
  /** `scope: "device"` quality choice */
  quality: string | null;
  buffering: boolean;
  /**
   * writes one serialized frame (`version`: of a state frame). A fan-out passes one Buffer to
   * every socket, so a large frame is UTF-8 encoded once, not once per socket.
   */
  sendRaw(type: string, raw: string | Buffer, version?: number): void;
  /** ends the connection for `err` (an error frame, then its close code) */
  end(err: Error): void;
}

export function memberOf(p: Pick<Participant, "device" | "viewer" | "transport" | "buffering" | "canControl" | "quality">): MemberRecord {
  const u = p.viewer.user;
  return { device: p.device, user: u ? { id: u.id, username: u.username } : null, transport: p.transport, buffering: p.buffering, canControl: p.canControl, quality: p.quality };
}

export function publicMember(m: MemberRecord) {
  return { device: m.device, user: m.user, transport: m.transport, buffering: m.buffering, can_control: m.canControl };
}

/**
 * Frames list at most this many members (and the total as `count`): a 1,000-person watch party
 * needs its head count and a screenful of names, and a full list would make every join and
 * presence round cost members × devices bytes (150 MB per round at 1,000, bench/ws).
 */
export const MEMBERS_LISTED = 100;

/** The members a frame lists: buffering ones first (the room waits for them), then by device. */
export function listedMembers(all: MemberRecord[]): { members: ReturnType<typeof publicMember>[]; count: number } {
  const sorted = all.length <= MEMBERS_LISTED ? all : [...all.filter((m) => m.buffering), ...all.filter((m) => !m.buffering)];
  return { members: sorted.slice(0, MEMBERS_LISTED).map(publicMember), count: all.length };
}

/** The longest a presence change waits, however large the session. */
const PRESENCE_MAX_DELAY_MS = 2000;

export class LocalSession {
  readonly participants = new Set<Participant>();
  lastVersion = 0;
  lastState: StoredState | null = null;
  unsubscribe: (() => Promise<void>) | null = null;
  private presenceTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly ref: SessionRef,
    private readonly store: SessionStore,
    private readonly log: Logger,
    private readonly presenceDelayMs: number,
  ) {}

  onMessage(msg: SessionMessage): void {
    if (msg.kind === "state") this.deliverState(msg.version, parseStored(msg.data), msg.by);
    else if (msg.kind === "presence") this.schedulePresence();
    else for (const p of [...this.participants]) p.end(notFound("The watch room has ended.", msg.reason));
  }

  /** Sends a version to every local device once (the same version from two paths is sent once). */
  deliverState(version: number, state: StoredState, by: string | null): void {
    if (version <= this.lastVersion) return;
    this.lastVersion = version;
    this.lastState = state;
    const now = Date.now();
    let shared: Buffer | null = null;
    for (const p of this.participants) {
      const d = p.watched.catalogue.duration;
      if (p.quality === null) {
        shared ??= Buffer.from(JSON.stringify({ type: "state", state: toView(state, version, now, d), by, version }));
        p.sendRaw("state", shared, version);
      } else {
        p.sendRaw("state", JSON.stringify({ type: "state", state: toView(state, version, now, d, p.quality), by, version }), version);
      }
    }
  }

  /**
   * Presence is debounced: 1,000 devices joining within a second make a few presence frames,
   * not a million. A frame lists every member, so one round costs devices × members bytes
   * (1,000 members: a 150 KB frame to each of 1,000 sockets, 150 MB): the delay grows with the
   * square of the local devices, from `presenceDelayMs` up to ~100 of them to at most
   * PRESENCE_MAX_DELAY_MS, so a large room's join storm makes a handful of rounds (bench/ws).
   */
  schedulePresence(): void {
    if (this.presenceTimer) return;
    const n = this.participants.size;
    const delay = Math.min(PRESENCE_MAX_DELAY_MS, Math.max(this.presenceDelayMs, (this.presenceDelayMs * n * n) / 10_000));
    this.presenceTimer = setTimeout(() => {
      this.presenceTimer = null;
      void this.sendPresence().catch((err: unknown) => this.log.warn({ err }, "presence not sent"));
    }, delay);
    this.presenceTimer.unref();
  }

  private async sendPresence(): Promise<void> {
    if (this.participants.size === 0) return;
    const { members, count } = listedMembers(await this.store.members(this.ref));
    const raw = Buffer.from(JSON.stringify({ type: "presence", members, count, room: this.ref.room?.code ?? null }));
    for (const p of this.participants) p.sendRaw("presence", raw);
  }

  stop(): void {
    if (this.presenceTimer) clearTimeout(this.presenceTimer);
    this.presenceTimer = null;
  }
}

interface LocalVideo {
  participants: Set<Participant>;
  release: (() => Promise<void>)[];
}

/** The viewers' live events a playback connection also receives. */
const LIVE_TYPES = new Set(["comment", "reactions"]);

export class LocalSessions {
  readonly sessions = new Map<string, LocalSession>();
  private readonly videos = new Map<string, LocalVideo>();
  /** joins in flight per key, so two devices joining at once subscribe once */
  private readonly opening = new Map<string, Promise<LocalSession>>();
  private readonly openingVideo = new Map<string, Promise<LocalVideo>>();

  constructor(
    private readonly store: SessionStore,
    private readonly liveEvents: EventBus,
    private readonly log: Logger,
    private readonly opts: { presenceDelayMs: number; onVideoChanged: (videoId: string, participants: Participant[]) => Promise<void> },
  ) {}

  get size(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.participants.size;
    return n;
  }

  async add(p: Participant): Promise<LocalSession> {
    const session = await this.session(p.ref);
    session.participants.add(p);
    const video = await this.video(p.ref.videoId);
    video.participants.add(p);
    return session;
  }

  /** Removes a device; true if it was the session's last one here. */
  async remove(p: Participant): Promise<boolean> {
    const key = this.store.stateKey(p.ref);
    const session = this.sessions.get(key);
    let last = false;
    if (session && session.participants.delete(p) && session.participants.size === 0) {
      last = true;
      this.sessions.delete(key);
      session.stop();
      await session.unsubscribe?.().catch((err: unknown) => this.log.warn({ err }, "session unsubscribe failed"));
    }
    const video = this.videos.get(p.ref.videoId);
    if (video && video.participants.delete(p) && video.participants.size === 0) {
      this.videos.delete(p.ref.videoId);
      for (const r of video.release) await r().catch((err: unknown) => this.log.warn({ err }, "video unsubscribe failed"));
    }
    return last;
  }

  get(ref: SessionRef): LocalSession | undefined {
    return this.sessions.get(this.store.stateKey(ref));
  }

  private async session(ref: SessionRef): Promise<LocalSession> {
    const key = this.store.stateKey(ref);
    const existing = this.sessions.get(key);
    if (existing) return existing;
    let pending = this.opening.get(key);
    if (!pending) {
      pending = (async () => {
        const s = new LocalSession(ref, this.store, this.log, this.opts.presenceDelayMs);
        s.unsubscribe = await this.store.subscribe(ref, (msg) => s.onMessage(msg));
        this.sessions.set(key, s);
        return s;
      })().finally(() => this.opening.delete(key));
      this.opening.set(key, pending);
    }
    return pending;
  }

  private async video(videoId: string): Promise<LocalVideo> {
    const existing = this.videos.get(videoId);
    if (existing) return existing;
    let pending = this.openingVideo.get(videoId);
    if (!pending) {
      pending = (async () => {
        const v: LocalVideo = { participants: new Set(), release: [] };
        v.release.push(await this.store.subscribeVideo(videoId, () => void this.opts.onVideoChanged(videoId, [...v.participants])));
        v.release.push(
          await this.liveEvents.subscribe(videoId, (e) => {
            if (!LIVE_TYPES.has(e.type)) return;
            const raw = Buffer.from(JSON.stringify(e));
            for (const p of v.participants) p.sendRaw(e.type, raw);
          }),
        );
        this.videos.set(videoId, v);
        return v;
      })().finally(() => this.openingVideo.delete(videoId));
      this.openingVideo.set(videoId, pending);
    }
    return pending;
  }

  all(): Participant[] {
    return [...this.sessions.values()].flatMap((s) => [...s.participants]);
  }
}
