/**
 * The sync engine's decisions, as pure functions of numbers (no DOM, no clock): where the video
 * should be according to a session state, and what to do about the difference. The controller
 * (sync-controller.ts) measures and applies; these are unit-tested with exact values.
 *
 * The method is Jellyfin SyncPlay's: a small drift is absorbed by playing a little faster or
 * slower for a moment ("SpeedToSync"), which nobody notices, and only a large one by a seek
 * ("SkipToSync"), which stalls the picture. Our thresholds:
 *
 * | drift             | action                                   | SyncPlay's default         |
 * |-------------------|------------------------------------------|----------------------------|
 * | ≤ 100 ms          | nothing (our target)                     | 60 ms (MinDelaySpeedToSync) |
 * | 100 ms … 400 ms   | rate × (1 ∓ drift / 1 s), bounded ±20 %, held until absorbed (1–2 s) | 1 + drift / 1 s for 1 s (SpeedToSyncDuration) |
 * | ≥ 400 ms          | seek, ahead by the seeks' measured stall | 400 ms (MinDelaySkipToSync) |
 *
 * 100 ms rather than 60: below a tenth of a second two screens in one room look and sound
 * together, and a wider dead band means fewer rate changes (each one resamples the audio). The
 * rate bend is bounded (SyncPlay's is not: 1 + drift/1 s, so 1.4× for 400 ms) because a 40 %
 * faster voice is noticeable even with pitch correction; a larger drift takes longer instead,
 * and one that would need more than MAX_CORRECTION_MS (a slow session speed) is a seek.
 */
import type { PlaybackState } from "./remote-protocol.js";

/** |drift| at or under which nothing is done, s */
export const SYNC_TOLERANCE_S = 0.1;
/** |drift| from which the engine seeks instead of bending the rate, s */
export const SEEK_THRESHOLD_S = 0.4;
/** the rate is bent by at most this fraction of the session's speed */
export const MAX_RATE_CORRECTION = 0.2;
/** a drift is meant to be absorbed in about this long (while under the bound), s */
export const CONVERGE_S = 1;
/** a correction that would take longer than this (a slow session speed) is a seek instead, ms */
export const MAX_CORRECTION_MS = 4000;
/**
 * After a seek nothing is measured for this long: the player is refilling and its position
 * jumps (SyncPlay waits SyncMethodThreshold / 2 = 1 s).
 */
export const SEEK_SETTLE_MS = 1000;
/** paused: a device further than this from the state's frame seeks to it (one frame at 25 fps is 40 ms), s */
export const PAUSED_TOLERANCE_S = 0.05;
/** the seek lead never exceeds this (a stall that long is a network problem, not a seek's cost), s */
export const MAX_SEEK_LEAD_S = 1.5;

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/**
 * Where the video should be at server time `serverNow` (ms): the state's position as of its
 * `server_time`, advanced by the speed while playing, within [0, duration].
 */
export function expectedPosition(state: Pick<PlaybackState, "status" | "position" | "speed" | "server_time">, serverNow: number, duration: number | null = null): number {
  let p = state.position;
  if (state.status === "playing") p += (Math.max(0, serverNow - state.server_time) / 1000) * state.speed;
  if (duration !== null && Number.isFinite(duration) && duration > 0 && p > duration) p = duration;
  return Math.max(0, p);
}

/**
 * The correction for `drift` (local − expected, s; positive = ahead): the rate that absorbs it in
 * CONVERGE_S, bent by at most MAX_RATE_CORRECTION, and how long to hold it (the gain is
 * speed × bend per second), as SyncPlay holds its rate for SpeedToSyncDuration. A fixed rate
 * for a computed time converges in one step, with one rate change there and one back.
 */
export function correction(drift: number, speed: number): { rate: number; forMs: number } {
  const bend = Math.max(-MAX_RATE_CORRECTION, Math.min(MAX_RATE_CORRECTION, drift / CONVERGE_S));
  const forMs = bend === 0 || speed <= 0 ? 0 : Math.round((Math.abs(drift) / (speed * Math.abs(bend))) * 1000);
  return { rate: round3(speed * (1 - bend)), forMs };
}

export interface SyncInput {
  /** the video's currentTime, s */
  local: number;
  /** expectedPosition() now, s */
  expected: number;
  /** the state is `playing` (otherwise the target is a still frame) */
  playing: boolean;
  /** the session's speed */
  speed: number;
  /** the rate the video plays at now */
  rate: number;
  /** local ms at which the running rate correction ends; null when none runs */
  correctingUntil: number | null;
  /** local ms until which nothing is measured (after a seek) */
  settleUntil: number;
  /** local ms now */
  now: number;
  /** the seek lead (seekLead()), s */
  lead: number;
}

export type SyncAction =
  | { kind: "none" }
  /** play at `rate` for `forMs`, then back to the speed */
  | { kind: "rate"; rate: number; forMs: number }
  /** back to the session's speed */
  | { kind: "restore"; rate: number }
  | { kind: "seek"; to: number };

/** One step of the engine: what to do about the difference between the video and the state. */
export function decideSync(i: SyncInput): SyncAction {
  if (i.now < i.settleUntil) return { kind: "none" };
  const drift = i.local - i.expected;
  const abs = Math.abs(drift);
  if (!i.playing) return abs > PAUSED_TOLERANCE_S ? { kind: "seek", to: round3(i.expected) } : { kind: "none" };
  // Seeking ahead by the lead: the seek's own stall would otherwise leave the video behind by
  // as much again (measured, see seekLead()). Also when a correction runs: it went wrong (a stall).
  const seek = { kind: "seek", to: round3(i.expected + i.lead * i.speed) } as const;
  if (abs >= SEEK_THRESHOLD_S) return seek;
  if (i.correctingUntil !== null) return i.now < i.correctingUntil ? { kind: "none" } : { kind: "restore", rate: i.speed };
  if (abs <= SYNC_TOLERANCE_S) return Math.abs(i.rate - i.speed) > 1e-3 ? { kind: "restore", rate: i.speed } : { kind: "none" };
  const c = correction(drift, i.speed);
  return c.forMs > MAX_CORRECTION_MS ? seek : { kind: "rate", ...c };
}
/**
 * The seek lead learnt from the last seek: after seeking to expected + lead, the video was
 * `driftAfter` (s) off once settled, so that seek cost lead − driftAfter of stall. The lead moves
 * halfway towards it (an exponential average: one slow seek does not send the next one far
 * ahead), within [0, MAX_SEEK_LEAD_S].
 */
export function seekLead(lead: number, driftAfter: number): number {
  const stall = lead - driftAfter;
  const next = lead + (stall - lead) / 2;
  return round3(Math.max(0, Math.min(MAX_SEEK_LEAD_S, next)));
}

/**
 * A seek the user made (the media element's `seeking`) worth telling the session about: one
 * that lands away from where the session is anyway. While playing, hls.js's own small seeks
 * over gaps land within the seek threshold of the expected position; while paused, any move off
 * the session's frame is the user's (a frame step).
 */
export function isUserSeek(target: number, expected: number, playing: boolean): boolean {
  return Math.abs(target - expected) >= (playing ? SEEK_THRESHOLD_S : PAUSED_TOLERANCE_S);
}
