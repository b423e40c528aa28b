/**
 * Playback sessions, their members and watch rooms in the state hub (src/platform/events/
 * state-hub.ts: in-process, or Redis shared by every API process). Key layout, per video V:
 *
 *   pb:V:<sid>            the session's state record (versioned, compare-and-set)
 *   pb:V:<sid>:m          its members (one per device, each with its own expiry)
 *   pb:V:<sid>            its channel: state changes and presence pings, fanned out to processes
 *   pbv:V                 the video's channel: "re-check access" after the video changed
 *   room:<CODE>           a watch room (expires ROOM_IDLE_TTL after its last member left)
 *
 * where <sid> is `u:<user id>` (a signed-in user's devices share it), `a:<device>` (an anonymous
 * viewer's own session) or `r:<room code>`.
 */
import { randomInt } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { StateHub } from "../../platform/events/state-hub.js";
import { parseStored, type StoredState } from "./playback-state.js";

export interface SessionRef {
  videoId: string;
  /** `u:<uid>`, `a:<device>` or `r:<code>` */
  sid: string;
  room: RoomRecord | null;
}

export interface RoomRecord {
  code: string;
  videoId: string;
  createdBy: { id: string; username: string };
  control: "everyone" | "owner";
  createdAt: string;
}

export interface MemberRecord {
  device: string;
  user: { id: string; username: string } | null;
  transport: "ws" | "http";
  buffering: boolean;
  canControl: boolean;
  /** a `scope: "device"` quality choice, null when following the session */
  quality: string | null;
}

/** Messages on a session's channel. */
export type SessionMessage =
  | { kind: "state"; version: number; data: string; by: string | null }
  | { kind: "presence" }
  | { kind: "ended"; reason: string };

export interface Versioned {
  state: StoredState;
  version: number;
}

/** Room codes: no 0/O, 1/I/L, so a code read aloud or off a TV is typed right. */
const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LENGTH = 8;

export class SessionStore {
  /**
   * Member records by their stored text. A session's whole member set is read on every join
   * (the greeting lists it) and presence round, and re-parsing 1,000 records each time made a
   * 1,000-device room's joins quadratic in JSON.parse (bench/ws). Parsing is a pure function of
   * the text, so an entry never goes stale; callers get copies, as they change what they get.
   */
  private readonly parsedMembers = new LRUCache<string, MemberRecord>({ max: 20_000 });

  constructor(
    private readonly hub: StateHub,
    private readonly opts: { sessionTtlS: number; roomTtlS: number; memberTtlS: number },
  ) {}

  stateKey(ref: Pick<SessionRef, "videoId" | "sid">): string {
    return `pb:${ref.videoId}:${ref.sid}`;
  }

  private membersKey(ref: Pick<SessionRef, "videoId" | "sid">): string {
    return `pb:${ref.videoId}:${ref.sid}:m`;
  }

  channelOf(ref: Pick<SessionRef, "videoId" | "sid">): string {
    return this.stateKey(ref);
  }

  videoChannel(videoId: string): string {
    return `pbv:${videoId}`;
  }

  private ttlOf(ref: SessionRef): number {
    return ref.room ? this.opts.roomTtlS : this.opts.sessionTtlS;
  }

  async read(ref: SessionRef): Promise<Versioned | null> {
    const rec = await this.hub.get(this.stateKey(ref));
    return rec ? { state: parseStored(rec.data), version: rec.version } : null;
  }

  /** The session's state, created by `init` if it has none (two creators race safely). */
  async ensure(ref: SessionRef, init: () => Promise<StoredState>): Promise<Versioned> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = await this.read(ref);
      if (cur) return cur;
      const state = await init();
      const v = await this.hub.compareAndSet(this.stateKey(ref), 0, JSON.stringify(state), this.ttlOf(ref));
      if (v !== null) return { state, version: v };
    }
    throw new Error("playback session could not be created");
  }

  /**
   * Applies `change` with optimistic concurrency: read, change, compare-and-set, and on a lost
   * race re-read and re-apply (the change functions are pure, so re-applying is safe). A change
   * that returns the same object changes nothing and bumps no version. Publishes the new state.
   */
  async update(ref: SessionRef, change: (s: StoredState) => StoredState, by: string | null, init: () => Promise<StoredState>): Promise<Versioned & { changed: boolean }> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const cur = await this.ensure(ref, init);
      const next = change(cur.state);
      if (next === cur.state) return { ...cur, changed: false };
      const data = JSON.stringify(next);
      const v = await this.hub.compareAndSet(this.stateKey(ref), cur.version, data, this.ttlOf(ref));
      if (v !== null) {
        await this.publish(ref, { kind: "state", version: v, data, by });
        return { state: next, version: v, changed: true };
      }
    }
    throw new Error("playback session update kept losing races");
  }

  async publish(ref: Pick<SessionRef, "videoId" | "sid">, msg: SessionMessage): Promise<void> {
    await this.hub.publish(this.channelOf(ref), JSON.stringify(msg));
  }

  subscribe(ref: Pick<SessionRef, "videoId" | "sid">, listener: (msg: SessionMessage) => void): Promise<() => Promise<void>> {
    return this.hub.subscribe(this.channelOf(ref), (raw) => listener(JSON.parse(raw) as SessionMessage));
  }

  subscribeVideo(videoId: string, listener: () => void): Promise<() => Promise<void>> {
    return this.hub.subscribe(this.videoChannel(videoId), () => listener());
  }

  async videoChanged(videoId: string): Promise<void> {
    await this.hub.publish(this.videoChannel(videoId), "changed");
  }

  async setMember(ref: SessionRef, m: MemberRecord, ttlS = this.opts.memberTtlS): Promise<void> {
    await this.hub.setMember(this.membersKey(ref), m.device, JSON.stringify(m), ttlS);
  }

  async removeMember(ref: SessionRef, device: string): Promise<void> {
    await this.hub.removeMember(this.membersKey(ref), device);
  }

  async members(ref: SessionRef): Promise<MemberRecord[]> {
    const raw = await this.hub.members(this.membersKey(ref));
    const out: MemberRecord[] = [];
    for (const d of raw.values()) {
      let m = this.parsedMembers.get(d);
      if (!m) this.parsedMembers.set(d, (m = JSON.parse(d) as MemberRecord));
      out.push({ ...m });
    }
    return out.sort((a, b) => a.device.localeCompare(b.device));
  }

  /** Keeps a session with members (and its room) from expiring. */
  async touch(ref: SessionRef): Promise<void> {
    await this.hub.touch(this.stateKey(ref), this.ttlOf(ref));
    if (ref.room) await this.hub.touch(roomKey(ref.room.code), this.opts.roomTtlS);
  }

  async createRoom(videoId: string, createdBy: RoomRecord["createdBy"], control: RoomRecord["control"], now: Date): Promise<RoomRecord> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const room: RoomRecord = { code: newRoomCode(), videoId, createdBy, control, createdAt: now.toISOString() };
      // Compare-and-set on an absent key: a code already in use is never overwritten.
      if ((await this.hub.compareAndSet(roomKey(room.code), 0, JSON.stringify(room), this.opts.roomTtlS)) !== null) return room;
    }
    throw new Error("no free room code");
  }

  async room(code: string): Promise<RoomRecord | null> {
    const rec = await this.hub.get(roomKey(normalizeRoomCode(code)));
    return rec ? (JSON.parse(rec.data) as RoomRecord) : null;
  }

  async updateRoom(room: RoomRecord, patch: Partial<Pick<RoomRecord, "control">>): Promise<RoomRecord> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const rec = await this.hub.get(roomKey(room.code));
      if (!rec) return room;
      const next = { ...(JSON.parse(rec.data) as RoomRecord), ...patch };
      if ((await this.hub.compareAndSet(roomKey(room.code), rec.version, JSON.stringify(next), this.opts.roomTtlS)) !== null) return next;
    }
    throw new Error("room update kept losing races");
  }

  async deleteRoom(room: RoomRecord): Promise<void> {
    await this.hub.delete(roomKey(room.code));
    const ref = { videoId: room.videoId, sid: roomSid(room.code) };
    await this.hub.delete(this.stateKey(ref));
    await this.publish(ref, { kind: "ended", reason: "room_ended" });
  }
}

export const roomSid = (code: string) => `r:${code}`;
const roomKey = (code: string) => `room:${code}`;

export function normalizeRoomCode(code: string): string {
  return code.trim().toUpperCase().replace(/[\s-]/g, "");
}

function newRoomCode(): string {
  let s = "";
  for (let i = 0; i < CODE_LENGTH; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return s;
}
