/**
 * The server-authoritative state of one playback session and the pure rules that change it.
 * Nothing here does I/O or reads the clock: callers pass `now` (ms since the epoch), so every
 * rule is unit-tested with exact numbers and two API processes applying the same command to the
 * same stored state compute the same result.
 *
 * Position is stored as "where the playhead was at `updatedAtMs`", never ticked: while playing,
 * the live position is `position + (now − updatedAtMs) / 1000 × speed` (Jellyfin's SyncPlay
 * does the same with its `PositionTicks` + `LastUpdatedAt`). Every change first rebases the
 * position to `now`, so a speed change or a pause never loses or gains time.
 */
import { fieldError } from "../../lib/errors.js";

export const PLAYBACK_STATUSES = ["idle", "waiting", "paused", "playing"] as const;
export type PlaybackStatus = (typeof PLAYBACK_STATUSES)[number];

export const MIN_SPEED = 0.25;
export const MAX_SPEED = 4;

export interface StoredState {
  status: PlaybackStatus;
  /** seconds, at `updatedAtMs` */
  position: number;
  speed: number;
  /** `auto` or a rung the video has (`480p`) */
  quality: string;
  audioLang: string | null;
  /**
   * the audio track's id (its rendition folder, `a1_en`): two tracks may share a language (a
   * commentary), and the remote's pick must reach the screen, not just "English"
   */
  audioTrack: string | null;
  /** null: subtitles off */
  subtitleLang: string | null;
  updatedAtMs: number;
  /** while `waiting`: the devices that are not ready yet */
  waitingFor: string[];
  /** while `waiting`: when the session starts playing regardless */
  waitingUntilMs: number | null;
}

/** What the session is about: duration bounds seeks, the rest is what a change may pick. */
export interface StateBounds {
  /** seconds; null when unknown (then seeks are bounded below only) */
  duration: number | null;
}

export function initialState(now: number, opts: { position?: number; audioLang?: string | null; audioTrack?: string | null } = {}): StoredState {
  return {
    status: "idle",
    position: opts.position ?? 0,
    speed: 1,
    quality: "auto",
    audioLang: opts.audioLang ?? null,
    audioTrack: opts.audioTrack ?? null,
    subtitleLang: null,
    updatedAtMs: now,
    waitingFor: [],
    waitingUntilMs: null,
  };
}

/**
 * A `waiting` state whose deadline passed is a `playing` one that started at the deadline: any
 * process reading it agrees, even if the process whose timer should have flipped it died.
 */
export function settle(s: StoredState, now: number): StoredState {
  if (s.status === "waiting" && s.waitingUntilMs !== null && now >= s.waitingUntilMs) {
    return { ...s, status: "playing", updatedAtMs: s.waitingUntilMs, waitingFor: [], waitingUntilMs: null };
  }
  return s;
}

/** The live position at `now`, clamped to [0, duration]. */
export function positionAt(s: StoredState, now: number, duration: number | null): number {
  const st = settle(s, now);
  let p = st.position;
  if (st.status === "playing") p += (Math.max(0, now - st.updatedAtMs) / 1000) * st.speed;
  if (duration !== null && p > duration) p = duration;
  return Math.max(0, round3(p));
}

/** Millisecond precision is all a player can seek to; it also keeps JSON short. */
function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** The state as of `now`, position rebased: the starting point of every change. */
function rebase(s: StoredState, now: number, duration: number | null): StoredState {
  const st = settle(s, now);
  return { ...st, position: positionAt(st, now, duration), updatedAtMs: now };
}

export function validPosition(position: number, bounds: StateBounds): number {
  if (!Number.isFinite(position) || position < 0 || (bounds.duration !== null && position > bounds.duration)) {
    const range = bounds.duration !== null ? `0 to ${bounds.duration}` : "0 or more";
    throw fieldError("position_out_of_range", `position must be ${range} seconds.`, "message", "position", { entryMessage: range });
  }
  return round3(position);
}

export interface PlayOptions {
  /** devices that reported `buffering` (rooms only): play waits for them */
  notReady: string[];
  /** how long a play waits for them, ms */
  waitTimeoutMs: number;
}

export function play(s: StoredState, now: number, bounds: StateBounds, opts: PlayOptions): StoredState {
  const base = rebase(s, now, bounds.duration);
  // Playing from the very end restarts, as every player's play button does after `ended`.
  const position = bounds.duration !== null && base.position >= bounds.duration ? 0 : base.position;
  if (opts.notReady.length > 0) {
    return { ...base, position, status: "waiting", waitingFor: [...opts.notReady].sort(), waitingUntilMs: now + opts.waitTimeoutMs };
  }
  return { ...base, position, status: "playing", waitingFor: [], waitingUntilMs: null };
}

export function pause(s: StoredState, now: number, bounds: StateBounds): StoredState {
  const base = rebase(s, now, bounds.duration);
  return { ...base, status: "paused", waitingFor: [], waitingUntilMs: null };
}

export function seek(s: StoredState, now: number, bounds: StateBounds, position: number): StoredState {
  const base = rebase(s, now, bounds.duration);
  const p = validPosition(position, bounds);
  // A seek on an idle session cues the video there without starting it.
  return { ...base, position: p, status: base.status === "idle" ? "paused" : base.status };
}

export function changeSpeed(s: StoredState, now: number, bounds: StateBounds, speed: number): StoredState {
  if (!Number.isFinite(speed) || speed < MIN_SPEED || speed > MAX_SPEED) {
    throw fieldError("speed_out_of_range", `speed must be between ${MIN_SPEED} and ${MAX_SPEED}.`, "message", "speed", { entryMessage: `${MIN_SPEED} to ${MAX_SPEED}` });
  }
  return { ...rebase(s, now, bounds.duration), speed };
}

export function changeQuality(s: StoredState, now: number, bounds: StateBounds, quality: string): StoredState {
  return { ...rebase(s, now, bounds.duration), quality };
}

export function changeLang(s: StoredState, now: number, bounds: StateBounds, change: { audioLang?: string; audioTrack?: string | null; subtitleLang?: string | null }): StoredState {
  const base = rebase(s, now, bounds.duration);
  return {
    ...base,
    ...(change.audioLang !== undefined ? { audioLang: change.audioLang, audioTrack: change.audioTrack ?? null } : {}),
    ...(change.subtitleLang !== undefined ? { subtitleLang: change.subtitleLang } : {}),
  };
}

/**
 * A device's readiness changed (rooms). While `waiting`, the set of devices waited for is the
 * current not-ready set; when it empties, everyone starts together, now. A device that starts
 * buffering while the room plays makes the room wait for it (nobody runs ahead of a stalled
 * member), with the same deadline rule.
 */
export function readinessChanged(s: StoredState, now: number, bounds: StateBounds, opts: PlayOptions): StoredState {
  const st = settle(s, now);
  if (st.status === "waiting") {
    if (opts.notReady.length === 0) return { ...rebase(st, now, bounds.duration), status: "playing", waitingFor: [], waitingUntilMs: null };
    return { ...st, waitingFor: [...opts.notReady].sort() };
  }
  if (st.status === "playing" && opts.notReady.length > 0) {
    const base = rebase(st, now, bounds.duration);
    return { ...base, status: "waiting", waitingFor: [...opts.notReady].sort(), waitingUntilMs: now + opts.waitTimeoutMs };
  }
  return st;
}

/** The session as clients see it (API JSON, snake_case). */
export interface StateView {
  status: PlaybackStatus;
  playing: boolean;
  position: number;
  speed: number;
  quality: string;
  audio_lang: string | null;
  audio_track: string | null;
  subtitle_lang: string | null;
  version: number;
  updated_at: string;
  /** the server clock (ms since the epoch) at which `position` was computed */
  server_time: number;
  waiting_for: string[];
}

export function toView(s: StoredState, version: number, now: number, duration: number | null, qualityOverride: string | null = null): StateView {
  const st = settle(s, now);
  return {
    status: st.status,
    playing: st.status === "playing",
    position: positionAt(st, now, duration),
    speed: st.speed,
    quality: qualityOverride ?? st.quality,
    audio_lang: st.audioLang,
    audio_track: st.audioTrack ?? null,
    subtitle_lang: st.subtitleLang,
    version,
    updated_at: new Date(st.updatedAtMs).toISOString(),
    server_time: now,
    waiting_for: st.waitingFor,
  };
}

export function parseStored(data: string): StoredState {
  return JSON.parse(data) as StoredState;
}
