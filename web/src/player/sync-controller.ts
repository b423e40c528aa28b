/**
 * Keeps one player in step with its playback session, both ways:
 * - the session's state → the player: play/pause, speed, quality, audio and subtitles, and the
 *   position, held to the state by the sync engine's decisions (sync-engine.ts) on a short tick;
 * - the user's own actions on this player (media element events, the player's menus) → control
 *   messages.
 *
 * The hard part is telling the two apart: everything the controller does to the media element
 * comes back as the same events a person's click makes. Each programmatic change records what
 * it expects (`expect`), and the event it causes is consumed instead of sent; an event that
 * agrees with the state anyway (a `play` while the session plays) is not sent either. After
 * sending an action, the controller does not apply the (older) state it still holds until the
 * session answers (`pending`): otherwise a seek would be undone by the tick before the server's
 * state caught up.
 */
import type { PlayerHandle } from "./player-handle.js";
import { describeChange, type ControlMessage, type PlaybackState, type RemoteError } from "./remote-protocol.js";
import { decideSync, expectedPosition, isUserSeek, PAUSED_TOLERANCE_S, SEEK_SETTLE_MS, SEEK_THRESHOLD_S, seekLead } from "./sync-engine.js";

/** How often the engine measures, ms (a media element's timeupdate comes every 250 ms at best). */
export const TICK_MS = 200;
/** How long a sent action waits for the session's answer before the state is applied again, ms. */
export const PENDING_MS = 1500;
/** An expected media event arrives within this, or was not caused by us, ms. */
const EXPECT_MS = 1000;
/**
 * A stall shorter than this is not reported: in a room, `buffering` makes everyone wait, and a
 * quarter-second hiccup should not pause four other screens.
 */
export const BUFFERING_REPORT_MS = 250;
/** A dragged seek bar sends at most one seek per this, ms (the server allows 10 messages/s). */
export const SEEK_SEND_MS = 200;

const MIN_SPEED = 0.25;
const MAX_SPEED = 4;
const HAVE_METADATA = 1;
const HAVE_FUTURE_DATA = 3;

export interface SyncControllerOptions {
  player: PlayerHandle;
  /** this device's id (states `by` it are its own actions coming back) */
  device: string;
  send(msg: ControlMessage): void;
  /** the server's clock now, ms */
  serverNow(): number;
  /** the local monotonic clock, ms */
  localNow(): number;
  /** `device`: this device's quality choice is its own (rooms: each member's bandwidth differs) */
  qualityScope: "session" | "device";
  canControl(): boolean;
  /** another device changed the session: what, in words, and which device */
  onRemoteChange?(text: string, by: string): void;
  /** the state plays but the browser refused to start without a gesture (true), or it started (false) */
  onAutoplayBlocked?(blocked: boolean): void;
  /** a local action that this device may not take (a room whose creator controls) was undone */
  onControlRefused?(): void;
  /**
   * The page's own start position (`?t=`): a link to a moment. On the first state, unless the
   * session is playing (then this device joins it), it is sent as a seek instead of being
   * overridden by the session's position.
   */
  start?: number;
}

/** Languages compared by their primary subtag (`fr` = `fr-FR`), as the player matches them. */
export function sameLang(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  return a.toLowerCase().split("-")[0] === b.toLowerCase().split("-")[0];
}

interface Expectations {
  play: number;
  pause: number;
  seekTo: number | null;
  seekAt: number;
  rate: number | null;
}

export class SyncController {
  private state: PlaybackState | null = null;
  private pendingUntil = 0;
  /** this device's changes sent and not yet come back as a state `by` it */
  private inFlight = 0;
  private readonly expect: Expectations = { play: 0, pause: 0, seekTo: null, seekAt: 0, rate: null };
  private correctingUntil: number | null = null;
  private correctionTimer: ReturnType<typeof setTimeout> | null = null;
  private settleUntil = 0;
  private learnLead = false;
  private lead = 0;
  private bufferingSent = false;
  private bufferTimer: ReturnType<typeof setTimeout> | null = null;
  private quietBufferingUntil = 0;
  private lastSeekSent = 0;
  private seekTimer: ReturnType<typeof setTimeout> | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private readonly cleanups: (() => void)[] = [];
  /** the player's track lists' sizes when tracks were last applied: they fill in after the manifest */
  private tracksSeen = "";
  private lastSent: ControlMessage["type"] | null = null;

  constructor(private readonly o: SyncControllerOptions) {}

  private get video(): HTMLVideoElement {
    return this.o.player.video;
  }

  /** the seek lead learnt so far, s (for the tests and the panel's details) */
  get seekLead(): number {
    return this.lead;
  }

  get current(): PlaybackState | null {
    return this.state;
  }

  attach(): void {
    const v = this.video;
    const on = (type: string, fn: () => void) => {
      v.addEventListener(type, fn);
      this.cleanups.push(() => v.removeEventListener(type, fn));
    };
    on("play", () => this.onPlay());
    on("pause", () => this.onPause());
    on("seeking", () => this.onSeeking());
    on("ratechange", () => this.onRateChange());
    on("waiting", () => this.onWaiting());
    on("canplay", () => this.onReady());
    on("playing", () => this.onReady());
    // A position set before the metadata is a start position at best: apply it once known.
    on("loadedmetadata", () => this.apply());
    this.cleanups.push(this.o.player.onTrackChange(() => this.onTrackChange()));
    this.ticker = setInterval(() => this.tick(), TICK_MS);
  }

  detach(): void {
    for (const c of this.cleanups.splice(0)) c();
    if (this.ticker) clearInterval(this.ticker);
    if (this.bufferTimer) clearTimeout(this.bufferTimer);
    if (this.seekTimer) clearTimeout(this.seekTimer);
    // Leave the video at the session's speed, not in the middle of a correction.
    this.endCorrection();
  }

  /** A state from the session (`greeting`: the first one of a connection). */
  onState(state: PlaybackState, by: string | null, greeting = false): void {
    const prev = this.state;
    if (prev && state.version < prev.version && !greeting) return;
    this.state = state;
    const start = this.o.start;
    if (!prev && start !== undefined && state.status !== "playing" && Math.abs(start - state.position) >= SEEK_THRESHOLD_S && this.o.canControl()) {
      this.applyTracks(state);
      this.act({ type: "seek", position: start });
      return;
    }
    if (!greeting && by && by !== this.o.device && prev && state.version > prev.version) {
      const text = describeChange(prev, state);
      if (text) this.o.onRemoteChange?.(text, by);
    }
    // Each change this device sent comes back as a state by it; once all have, act again. (A
    // dragged seek bar sends several: the answer to the first must not pull the video back.)
    if (!greeting && by === this.o.device && this.inFlight > 0 && --this.inFlight === 0 && !this.seekTimer) this.pendingUntil = 0;
    if (this.pending()) return;
    // A new state ends any correction: the target moved.
    if (!prev || state.version !== prev.version || greeting) this.endCorrection(false);
    this.apply();
  }

  /** One of this device's messages was refused: back to the session's state. */
  onRefused(err: RemoteError): void {
    this.pendingUntil = 0;
    this.inFlight = 0;
    if (err.code === "control_forbidden") this.o.onControlRefused?.();
    this.apply();
  }

  // --- the state → the player ---------------------------------------------------------------

  private pending(): boolean {
    return this.o.localNow() < this.pendingUntil;
  }

  private duration(): number | null {
    const d = this.video.duration;
    return Number.isFinite(d) && d > 0 ? d : null;
  }

  private expected(): number {
    return this.state ? expectedPosition(this.state, this.o.serverNow(), this.duration()) : 0;
  }

  /** Brings the player to the state: tracks, speed, play/pause, and a position far off. */
  private apply(): void {
    const s = this.state;
    if (!s) return;
    this.applyTracks(s);
    if (this.correctingUntil === null && Math.abs(this.video.playbackRate - s.speed) > 1e-3) this.setRate(s.speed);
    const v = this.video;
    const expected = this.expected();
    const atEnd = v.ended && this.duration() !== null && expected >= (this.duration() ?? 0) - 0.05;
    if (s.status === "playing" && v.paused && !atEnd) this.play();
    else if ((s.status === "paused" || s.status === "waiting") && !v.paused) {
      this.expect.pause = this.o.localNow();
      v.pause();
    }
    if (v.readyState < HAVE_METADATA) return;
    const drift = Math.abs(v.currentTime - expected);
    if (s.status === "playing") {
      // A small drift is the tick's: a rate correction, not a seek.
      if (drift >= SEEK_THRESHOLD_S && !atEnd) this.seek(expected + this.lead * s.speed, true);
    } else if (s.status === "idle") this.applyIdle(expected);
    else if (drift > PAUSED_TOLERANCE_S) this.seek(expected, true);
  }

  /**
   * Nobody has started the session (a new watch room, a first visit). A player that has not
   * started either goes to the state's position (where the user left off); one that is running,
   * or was moved (the room's creator brings their playback into the room), takes the session
   * there instead.
   */
  private applyIdle(expected: number): void {
    const v = this.video;
    const off = Math.abs(v.currentTime - expected) >= SEEK_THRESHOLD_S;
    const started = !v.paused || v.played.length > 0;
    if (!started) {
      if (off) this.seek(expected, true);
      return;
    }
    if (!this.o.canControl()) return;
    if (off) this.act({ type: "seek", position: Math.round(v.currentTime * 1000) / 1000 });
    if (!v.paused) this.act({ type: "play" });
  }

  private tracksSignature(): string {
    const p = this.o.player;
    return `${p.qualities().length}|${p.audioTracks().length}|${p.subtitleLangs().length}`;
  }

  /** Quality, audio and subtitles as the state has them, among what the player offers. */
  private applyTracks(s: PlaybackState): void {
    const p = this.o.player;
    this.tracksSeen = this.tracksSignature();
    if (s.quality !== p.quality() && p.qualities().some((q) => q.id === s.quality)) p.setQuality(s.quality);
    const audio = s.audio_lang;
    if (audio && !sameLang(p.audioLang(), audio) && p.audioTracks().some((t) => sameLang(t.lang, audio))) p.setAudioLang(audio);
    const sub = s.subtitle_lang;
    if (!sameLang(p.subtitleLang(), sub) && (sub === null || p.subtitleLangs().some((l) => sameLang(l, sub)))) p.setSubtitleLang(sub);
  }

  private play(): void {
    this.expect.play = this.o.localNow();
    const started = this.video.play();
    // Browsers refuse to start sound without a gesture (NotAllowedError): the panel asks for a click.
    void Promise.resolve(started)
      .then(() => this.o.onAutoplayBlocked?.(false))
      .catch((err: unknown) => {
        if (err instanceof Error && err.name === "NotAllowedError") this.o.onAutoplayBlocked?.(true);
      });
  }

  private setRate(rate: number): void {
    this.expect.rate = rate;
    // The session's speed also as the default: a player that reloads its source (a quality
    // switch) resets the rate to the default, which would otherwise read as the user's change.
    if (this.state && rate === this.state.speed) this.video.defaultPlaybackRate = rate;
    this.video.playbackRate = rate;
  }

  /** `report`: a seek the session asked for (its stall is reported as buffering); else a correction. */
  private seek(to: number, report: boolean): void {
    const now = this.o.localNow();
    const d = this.duration();
    const target = Math.max(0, d !== null ? Math.min(d, to) : to);
    this.expect.seekTo = target;
    this.expect.seekAt = now;
    this.settleUntil = now + SEEK_SETTLE_MS;
    this.learnLead = this.state?.status === "playing";
    if (!report) this.quietBufferingUntil = this.settleUntil;
    this.endCorrection();
    this.o.player.seek(target);
  }

  /** Ends a rate correction; `restore`: the rate goes back to the session's speed now. */
  private endCorrection(restore = true): void {
    if (this.correctionTimer) clearTimeout(this.correctionTimer);
    this.correctionTimer = null;
    const was = this.correctingUntil !== null;
    this.correctingUntil = null;
    if (restore && was && this.state) this.setRate(this.state.speed);
  }

  /** One measurement: the engine's decision, applied. */
  tick(): void {
    const s = this.state;
    if (!s) return;
    if (this.pendingUntil !== 0 && !this.pending()) {
      // The session did not answer in time (lost, or a change that changed nothing): follow it again.
      this.pendingUntil = 0;
      this.inFlight = 0;
      this.apply();
      return;
    }
    if (this.pending()) return;
    // Tracks arrive with the manifest, after the first state may have been applied.
    if (this.tracksSignature() !== this.tracksSeen) this.applyTracks(s);
    const v = this.video;
    const playing = s.status === "playing";
    // Nothing is measurable while the player seeks or starves, or when it is not running while it should be.
    if (v.seeking || v.ended || v.readyState < (playing ? HAVE_FUTURE_DATA : HAVE_METADATA)) return;
    if (playing && v.paused) return;
    if (!playing && s.status !== "paused" && s.status !== "waiting") return;
    // Playing on while the session is paused or waiting (a click that was not sent): stop again.
    if (!playing && !v.paused) return this.apply();
    const now = this.o.localNow();
    const expected = this.expected();
    if (this.learnLead && now >= this.settleUntil) {
      this.learnLead = false;
      this.lead = seekLead(this.lead, v.currentTime - expected);
    }
    const action = decideSync({
      local: v.currentTime,
      expected,
      playing,
      speed: s.speed,
      rate: v.playbackRate,
      correctingUntil: this.correctingUntil,
      settleUntil: this.settleUntil,
      now,
      lead: this.lead,
    });
    switch (action.kind) {
      case "rate":
        this.correctingUntil = now + action.forMs;
        this.setRate(action.rate);
        // Back to the speed on time, not at the next tick (up to 200 ms × 20 % = 40 ms late).
        this.correctionTimer = setTimeout(() => this.endCorrection(), action.forMs);
        break;
      case "restore":
        this.endCorrection(false);
        this.setRate(action.rate);
        break;
      case "seek":
        this.seek(action.to, false);
        break;
      case "none":
        break;
    }
  }

  // --- the user → the session ---------------------------------------------------------------

  private fresh(at: number): boolean {
    return this.o.localNow() - at < EXPECT_MS;
  }

  /** Sends a user's action, or undoes it when this device may not control. */
  private act(msg: ControlMessage): void {
    if (!this.o.canControl() && !(msg.type === "change_quality" && msg.scope === "device")) {
      this.o.onControlRefused?.();
      this.apply();
      return;
    }
    // A play (or pause) already on its way: the event of the same click arriving late.
    if ((msg.type === "play" || msg.type === "pause") && this.pending() && this.lastSent === msg.type) return;
    this.lastSent = msg.type;
    if (msg.type !== "buffering" && msg.type !== "ready") this.inFlight++;
    this.pendingUntil = this.o.localNow() + PENDING_MS;
    this.endCorrection();
    this.o.send(msg);
  }

  private onPlay(): void {
    if (this.fresh(this.expect.play)) {
      this.expect.play = 0;
      return;
    }
    const st = this.state?.status;
    // Before the first state nothing is known to differ: the greeting decides (applyIdle).
    if (!st || st === "playing" || st === "waiting") return;
    this.act({ type: "play" });
  }

  private onPause(): void {
    if (this.fresh(this.expect.pause)) {
      this.expect.pause = 0;
      return;
    }
    // The end of the video pauses every device by itself; nobody asked for a pause.
    if (this.video.ended) return;
    const st = this.state?.status;
    if (!st || st === "paused" || st === "idle") return;
    this.act({ type: "pause" });
  }

  private onSeeking(): void {
    const t = this.video.currentTime;
    // A player may land a little off the asked time (a keyframe, a rounding): a quarter second of slack.
    if (this.expect.seekTo !== null && this.fresh(this.expect.seekAt) && Math.abs(t - this.expect.seekTo) < 0.25) {
      this.expect.seekTo = null;
      return;
    }
    if (!this.state || !isUserSeek(t, this.expected(), this.state.status === "playing")) return;
    // A seek moves the target: nothing to measure until it lands.
    this.settleUntil = this.o.localNow() + SEEK_SETTLE_MS;
    this.learnLead = false;
    const sendNow = () => {
      this.seekTimer = null;
      this.lastSeekSent = this.o.localNow();
      const d = this.duration();
      const position = Math.max(0, d !== null ? Math.min(d, this.video.currentTime) : this.video.currentTime);
      this.act({ type: "seek", position: Math.round(position * 1000) / 1000 });
    };
    const since = this.o.localNow() - this.lastSeekSent;
    if (since >= SEEK_SEND_MS) sendNow();
    else {
      // Dragging: the latest position goes when the interval is over.
      this.pendingUntil = this.o.localNow() + PENDING_MS;
      this.seekTimer ??= setTimeout(sendNow, SEEK_SEND_MS - since);
    }
  }

  private onRateChange(): void {
    const r = this.video.playbackRate;
    if (this.expect.rate !== null && Math.abs(r - this.expect.rate) < 1e-3) return;
    const s = this.state;
    if (!s || Math.abs(r - s.speed) < 1e-3) return;
    this.expect.rate = r;
    this.act({ type: "change_speed", speed: Math.min(MAX_SPEED, Math.max(MIN_SPEED, r)) });
  }

  private onWaiting(): void {
    if (this.video.paused || this.bufferingSent || this.o.localNow() < this.quietBufferingUntil) return;
    if (this.bufferTimer) clearTimeout(this.bufferTimer);
    this.bufferTimer = setTimeout(() => {
      this.bufferTimer = null;
      const v = this.video;
      if (!v.paused && v.readyState < HAVE_FUTURE_DATA && !this.bufferingSent) {
        this.bufferingSent = true;
        this.o.send({ type: "buffering" });
      }
    }, BUFFERING_REPORT_MS);
  }

  private onReady(): void {
    if (this.bufferTimer) {
      clearTimeout(this.bufferTimer);
      this.bufferTimer = null;
    }
    if (!this.bufferingSent) return;
    this.bufferingSent = false;
    this.o.send({ type: "ready" });
  }

  private onTrackChange(): void {
    const s = this.state;
    if (!s) return;
    const p = this.o.player;
    const q = p.quality();
    if (q !== s.quality) this.act({ type: "change_quality", quality: q, scope: this.o.qualityScope });
    const lang: { audio?: string; subtitles?: string | null } = {};
    const audio = p.audioLang();
    if (audio && !sameLang(audio, s.audio_lang)) lang.audio = audio;
    const sub = p.subtitleLang();
    if (!sameLang(sub, s.subtitle_lang)) lang.subtitles = sub;
    if (lang.audio !== undefined || lang.subtitles !== undefined) this.act({ type: "change_lang", ...lang });
  }
}
