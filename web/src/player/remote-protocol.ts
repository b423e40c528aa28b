/**
 * The live playback protocol as the web client speaks it (docs/playback.md): frame types taken
 * from the OpenAPI document (so a server-side change of a schema fails `tsc -p web`), parsing of
 * server frames, what a close code means for reconnecting, errors in words, and the device ids
 * the panel shows as "Chrome on phone". Pure: no DOM, no clock, no I/O.
 */
import type { components } from "../../../src/apps/web/api.types.js";
import { formatClock } from "../ui/format.js";

export type PlaybackState = components["schemas"]["PlaybackState"];
export type Greeting = components["schemas"]["PlaybackStateResponse"];
export type SessionInfo = Greeting["session"];
export type Member = Greeting["members"][number];
export type ControlMessage = components["schemas"]["PlaybackControl"];
export type Room = components["schemas"]["WatchRoom"];

export interface StateFrame {
  type: "state";
  state: PlaybackState;
  by: string | null;
  version: number;
}
export interface PresenceFrame {
  type: "presence";
  members: Member[];
  count: number;
  room: string | null;
}
export interface PongFrame {
  type: "pong";
  server_time: number;
  client_time?: number;
}
export interface RemoteError {
  code: string;
  message: string;
}
export interface ErrorFrame {
  type: "error";
  error: RemoteError;
}

/** What the client acts on; `switch`, `comment` and `reactions` frames are someone else's business. */
export type ServerFrame =
  | { kind: "greeting"; frame: Greeting }
  | { kind: "state"; frame: StateFrame }
  | { kind: "presence"; frame: PresenceFrame }
  | { kind: "pong"; frame: PongFrame }
  | { kind: "error"; frame: ErrorFrame }
  | { kind: "other"; type: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function isState(v: unknown): v is PlaybackState {
  return isObject(v) && typeof v.status === "string" && typeof v.position === "number" && typeof v.speed === "number" && typeof v.version === "number" && typeof v.server_time === "number";
}

/**
 * A text frame as one of the kinds above, or null when it is not JSON or not shaped as the
 * protocol says (a proxy's HTML error page, a truncated frame): such a frame is ignored.
 */
export function parseFrame(raw: string): ServerFrame | null {
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isObject(msg) || typeof msg.type !== "string") return null;
  switch (msg.type) {
    case "state":
      if (!isState(msg.state)) return null;
      // The greeting is the state frame that also says which session this device is in.
      if (isObject(msg.session) && Array.isArray(msg.members)) return { kind: "greeting", frame: msg as unknown as Greeting };
      return { kind: "state", frame: { type: "state", state: msg.state, by: typeof msg.by === "string" ? msg.by : null, version: msg.state.version } };
    case "presence":
      if (!Array.isArray(msg.members)) return null;
      return { kind: "presence", frame: { type: "presence", members: msg.members as Member[], count: typeof msg.count === "number" ? msg.count : msg.members.length, room: typeof msg.room === "string" ? msg.room : null } };
    case "pong":
      if (typeof msg.server_time !== "number") return null;
      return { kind: "pong", frame: msg as unknown as PongFrame };
    case "error": {
      const e = isObject(msg.error) ? msg.error : {};
      return { kind: "error", frame: { type: "error", error: { code: typeof e.code === "string" ? e.code : "error", message: typeof e.message === "string" ? e.message : "" } } };
    }
    default:
      return { kind: "other", type: msg.type };
  }
}

/** What to do after the socket closed with `code` (docs/playback.md, "Refusals"). */
export type CloseAction = "reconnect" | "refresh" | "stop";

export function closeAction(code: number, signedIn: boolean): CloseAction {
  // 4401: the access token expired or the sign-in session ended; a refresh tells which.
  if (code === 4401) return signedIn ? "refresh" : "stop";
  // 4400 (a bad device id or room code), 4403, 4404: trying again cannot succeed.
  if (code >= 4400 && code < 4500) return "stop";
  // 1003/1009: the client sent what the server does not take; reconnecting would repeat it.
  if (code === 1003 || code === 1009) return "stop";
  // 1000 from the server, 1001 (restart), 1006 (a drop), 1008 (rate limited), 1011: try again.
  return "reconnect";
}

/** The error a close code stands for when no `error` frame preceded it (its reason is the code). */
export function closeError(code: number, reason: string): RemoteError | null {
  if (reason && code >= 4000) return { code: reason, message: "" };
  if (code === 4401) return { code: "session_ended", message: "" };
  if (code === 4403) return { code: "forbidden", message: "" };
  if (code === 4404) return { code: "video_not_found", message: "" };
  if (code === 1008) return { code: "rate_limited", message: "" };
  return null;
}

/**
 * Exponential backoff with jitter: 0.5 s, 1 s, 2 s… up to 30 s, each between half and all of
 * it so that devices dropped by one server restart do not all come back in the same instant.
 */
export function backoffMs(attempt: number, random: number): number {
  const ceiling = Math.min(30_000, 500 * 2 ** Math.max(0, attempt));
  return Math.round(ceiling * (0.5 + random / 2));
}

/**
 * Failed WebSocket attempts in a row (none reached the greeting) after which the HTTP fallback
 * takes over: a proxy or a TV browser that blocks WebSockets fails every attempt the same way,
 * and waiting through a longer backoff only delays playback control.
 */
export const FALLBACK_AFTER_FAILURES = 2;

const WORDS: Record<string, string> = {
  room_ended: "This watch room has ended.",
  room_not_found: "This watch room does not exist or has ended.",
  session_ended: "Your sign-in session ended. Sign in again to sync with your devices.",
  token_expired: "Your sign-in expired. Sign in again to sync with your devices.",
  token_invalid: "Your sign-in is no longer valid. Sign in again to sync with your devices.",
  token_revoked: "Your sign-in was revoked. Sign in again to sync with your devices.",
  not_authenticated: "Sign in to control this video.",
  video_not_found: "Live control is not available for this video.",
  video_unavailable: "This video is no longer available to you.",
  playback_token_revoked: "This video's sharing settings changed. Reload the page.",
  forbidden: "You may not control this video.",
  control_forbidden: "Only the room's creator controls playback in this room.",
  rate_limited: "Too many changes in a short time; wait a moment.",
  throttled: "Too many requests; wait a moment.",
  position_out_of_range: "That position is outside the video.",
  speed_out_of_range: "That speed is not supported.",
  quality_unavailable: "That quality is not available for this video.",
  language_unavailable: "That language is not available for this video.",
  server_shutdown: "The server is restarting; reconnecting…",
};

/** An error code of the protocol as a sentence for a person. */
export function describeRemoteError(err: RemoteError): string {
  return WORDS[err.code] ?? (err.message || `Live control failed (${err.code}).`);
}

/** The errors after which this device is no longer in a session (nothing to retry). */
export function isFatal(code: string): boolean {
  return ["room_ended", "room_not_found", "session_ended", "video_not_found", "video_unavailable", "playback_token_revoked", "forbidden", "token_invalid", "token_revoked"].includes(code);
}

// ---------------------------------------------------------------------------------------------
// Device ids: `<kind>.<browser>.<random>` (the protocol allows [A-Za-z0-9_.:-]{1,64}). The kind
// and browser are in the id because the member list carries nothing else about a device, and
// "Chrome on phone" is what tells a person which of their screens is which.

export type DeviceKind = "phone" | "tablet" | "tv" | "desktop";
const KINDS: readonly DeviceKind[] = ["phone", "tablet", "tv", "desktop"];
const BROWSERS: Record<string, string> = { chrome: "Chrome", firefox: "Firefox", safari: "Safari", edge: "Edge", opera: "Opera", samsung: "Samsung Internet", browser: "Browser" };

export function deviceKind(userAgent: string, maxTouchPoints = 0): DeviceKind {
  const ua = userAgent.toLowerCase();
  if (/smart-?tv|tizen|webos|hbbtv|appletv|googletv|crkey|bravia|aft[a-z]/.test(ua)) return "tv";
  if (/ipad|tablet/.test(ua) || (/android/.test(ua) && !/mobile/.test(ua))) return "tablet";
  // iPadOS reports itself as a Mac; only the touch points tell.
  if (/macintosh/.test(ua) && maxTouchPoints > 1) return "tablet";
  if (/mobi|iphone|ipod|android/.test(ua)) return "phone";
  return "desktop";
}

export function browserName(userAgent: string): string {
  const ua = userAgent.toLowerCase();
  if (ua.includes("samsungbrowser")) return "samsung";
  if (ua.includes("edg/")) return "edge";
  if (ua.includes("opr/") || ua.includes("opera")) return "opera";
  if (ua.includes("firefox/")) return "firefox";
  if (ua.includes("chrome/") || ua.includes("chromium/") || ua.includes("crios/")) return "chrome";
  if (ua.includes("safari/")) return "safari";
  return "browser";
}

/** A new device id; `random` is [a-z0-9]+ (crypto.randomUUID without dashes, say). */
export function newDeviceId(kind: DeviceKind, browser: string, random: string): string {
  return `${kind}.${browser}.${random.replace(/[^a-z0-9]/gi, "").slice(0, 12)}`;
}

/**
 * A tab's device id: the browser's stable id plus the tab's own suffix. Two tabs of one browser
 * are two screens (each seeks and buffers on its own) and must be two members; a reload of a tab
 * keeps its suffix (sessionStorage) and so stays the same member.
 */
export function tabDeviceId(base: string, tab: string): string {
  return `${base}:${tab.replace(/[^a-z0-9]/gi, "").slice(0, 6)}`.slice(0, 64);
}

export interface DeviceLabel {
  kind: DeviceKind | "device";
  /** "Chrome on phone" */
  label: string;
}

export function describeDevice(id: string): DeviceLabel {
  const [kind, browser] = id.split(/[.:]/);
  if (kind && KINDS.includes(kind as DeviceKind) && browser) {
    return { kind: kind as DeviceKind, label: `${BROWSERS[browser] ?? browser} on ${kind === "tv" ? "TV" : kind}` };
  }
  return { kind: "device", label: `Device ${id.slice(0, 12)}` };
}

// ---------------------------------------------------------------------------------------------
// Remote actions in words, for the live region ("Paused from Chrome on phone").

/**
 * What changed between two states, as a verb phrase ("Paused", "Jumped to 1:23"), or null when
 * nothing a person would notice did. A play or pause also moves the position a little (the
 * server rebases it); only a jump the size of a seek is reported as one.
 */
export function describeChange(prev: PlaybackState | null, next: PlaybackState): string | null {
  let head = "";
  const wasPlaying = prev ? prev.status === "playing" : false;
  if (next.status === "playing" && !wasPlaying) head = "Playing";
  else if (next.status === "paused" && prev?.status !== "paused") head = "Paused";
  else if (next.status === "waiting" && prev?.status !== "waiting") head = "Waiting for everyone to be ready";
  const rest: string[] = [];
  if (prev) {
    const elapsed = prev.status === "playing" ? ((next.server_time - prev.server_time) / 1000) * prev.speed : 0;
    if (Math.abs(next.position - (prev.position + elapsed)) > 1) head = head ? `${head} at ${formatClock(next.position)}` : `Jumped to ${formatClock(next.position)}`;
    if (next.speed !== prev.speed) rest.push(`speed ${next.speed}×`);
    if (next.quality !== prev.quality) rest.push(`quality ${next.quality}`);
    if (next.audio_lang !== prev.audio_lang || next.audio_track !== prev.audio_track) rest.push(`audio ${next.audio_lang ?? "default"}`);
    if (next.subtitle_lang !== prev.subtitle_lang) rest.push(next.subtitle_lang ? `subtitles ${next.subtitle_lang}` : "subtitles off");
  }
  const text = [head, ...rest].filter(Boolean).join(", ");
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : null;
}
