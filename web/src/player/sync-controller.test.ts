import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PlayerHandle } from "./player-handle.js";
import type { ControlMessage, PlaybackState } from "./remote-protocol.js";
import { BUFFERING_REPORT_MS, PENDING_MS, SyncController, type SyncControllerOptions } from "./sync-controller.js";
import { SEEK_SETTLE_MS } from "./sync-engine.js";

/** The media element as far as the controller uses it; its events come asynchronously, as a browser's do. */
class FakeVideo extends EventTarget {
  private time = 0;
  private rate = 1;
  paused = true;
  defaultPlaybackRate = 1;
  readyState = 4;
  seeking = false;
  ended = false;
  duration = 60;
  blocked = false;
  played = { length: 0 };
  fire(type: string) {
    queueMicrotask(() => this.dispatchEvent(new Event(type)));
  }
  get currentTime() {
    return this.time;
  }
  set currentTime(t: number) {
    this.time = t;
    this.fire("seeking");
    this.fire("seeked");
  }
  /** where the playback got to by itself (a slow start, a stall): no events */
  slip(t: number) {
    this.time = t;
  }
  /** time passing while it plays */
  advance(s: number) {
    if (!this.paused) this.time += s * this.rate;
  }
  get playbackRate() {
    return this.rate;
  }
  set playbackRate(r: number) {
    if (r === this.rate) return;
    this.rate = r;
    this.fire("ratechange");
  }
  play(): Promise<void> {
    if (this.blocked) return Promise.reject(new DOMException("No gesture.", "NotAllowedError"));
    if (this.paused) {
      this.paused = false;
      this.played = { length: 1 };
      this.fire("play");
    }
    return Promise.resolve();
  }
  pause() {
    if (!this.paused) {
      this.paused = true;
      this.fire("pause");
    }
  }
}

class FakePlayer implements PlayerHandle {
  readonly el = new FakeVideo();
  q = "auto";
  audio: string | null = "en";
  subs: string | null = null;
  private listeners = new Set<() => void>();
  get video() {
    return this.el as unknown as HTMLVideoElement;
  }
  qualities() {
    return ["auto", "144p", "240p"].map((id) => ({ id, label: id }));
  }
  quality() {
    return this.q;
  }
  setQuality = vi.fn((id: string) => void (this.q = id));
  audioTracks() {
    return [
      { id: "en", lang: "en", label: "English" },
      { id: "fr", lang: "fr", label: "français" },
    ];
  }
  audioLang() {
    return this.audio;
  }
  setAudioLang = vi.fn((l: string) => void (this.audio = l));
  subtitleLangs() {
    return ["en"];
  }
  subtitleLang() {
    return this.subs;
  }
  setSubtitleLang = vi.fn((l: string | null) => void (this.subs = l));
  seek(s: number) {
    this.el.currentTime = s;
  }
  onTrackChange(cb: () => void) {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
  /** a change made in the player's own menus */
  userTrackChange(patch: { q?: string; audio?: string; subs?: string | null }) {
    if (patch.q !== undefined) this.q = patch.q;
    if (patch.audio !== undefined) this.audio = patch.audio;
    if (patch.subs !== undefined) this.subs = patch.subs;
    this.listeners.forEach((cb) => cb());
  }
}

const T0 = 1_796_305_200_000;
let now = T0;
const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function state(version: number, patch: Partial<PlaybackState> = {}): PlaybackState {
  return { status: "playing", playing: true, position: 10, speed: 1, quality: "auto", audio_lang: "en", audio_track: "a0", subtitle_lang: null, version, updated_at: "2026-01-01T00:00:00.000Z", server_time: now, waiting_for: [], ...patch };
}

function setup(patch: Partial<SyncControllerOptions> = {}) {
  const player = new FakePlayer();
  const sent: ControlMessage[] = [];
  const remote: [string, string][] = [];
  const c = new SyncController({
    player,
    device: "desktop.chrome.me:1",
    send: (m) => void sent.push(m),
    // The server's clock runs 5 s ahead of ours: the controller must use the offset.
    serverNow: () => now + 5000,
    localNow: () => now,
    qualityScope: "session",
    canControl: () => true,
    onRemoteChange: (text, by) => void remote.push([text, by]),
    ...patch,
  });
  c.attach();
  return { player, v: player.el, sent, remote, c };
}

/** Time passes: the clock and, while playing, the video. */
function elapse(v: FakeVideo, ms: number) {
  now += ms;
  v.advance(ms / 1000);
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
  now = T0;
});
afterEach(() => vi.useRealTimers());

describe("SyncController: the state → the player", () => {
  it("plays and seeks to the live position of a playing state, and does not echo its own changes", async () => {
    const { v, sent, c } = setup();
    // As of server time T0 + 4000 (our T0 − 1000), at 10 s: now it is at 11 s.
    c.onState(state(3, { server_time: T0 + 4000, position: 10 }), null, true);
    expect(v.paused).toBe(false);
    expect(v.currentTime).toBeCloseTo(11, 6);
    await flush();
    expect(sent).toEqual([]);
    c.detach();
  });

  it("pauses on a paused state, on the state's frame when more than 50 ms off", async () => {
    const { v, sent, c } = setup();
    c.onState(state(1), null, true);
    await flush();
    elapse(v, 500);
    c.onState(state(2, { status: "paused", playing: false, position: 10.5, server_time: now + 5000 }), "phone.chrome.x:1");
    expect(v.paused).toBe(true);
    expect(v.currentTime).toBeCloseTo(10.5, 6); // 10 + 0.5 s: within 50 ms, left alone
    c.onState(state(3, { status: "paused", playing: false, position: 12, server_time: now + 5000 }), "phone.chrome.x:1");
    expect(v.currentTime).toBe(12);
    await flush();
    expect(sent).toEqual([]);
    c.detach();
  });

  it("says what another device did, and from which one", async () => {
    const { remote, c } = setup();
    c.onState(state(1), null, true);
    c.onState(state(2, { status: "paused", playing: false }), "phone.chrome.x:1");
    c.onState(state(3, { status: "paused", playing: false, subtitle_lang: "en" }), "desktop.chrome.me:1"); // our own: not announced
    c.onState(state(4, { status: "paused", playing: false, speed: 1.5 }), null); // a timer's: not announced
    expect(remote).toEqual([["Paused", "phone.chrome.x:1"]]);
    c.detach();
  });

  it("applies quality, audio and subtitles from the state", () => {
    const { player, c } = setup();
    c.onState(state(1, { quality: "240p", audio_lang: "fr", subtitle_lang: "en" }), null, true);
    expect(player.setQuality).toHaveBeenCalledWith("240p");
    expect(player.setAudioLang).toHaveBeenCalledWith("fr");
    expect(player.setSubtitleLang).toHaveBeenCalledWith("en");
    // A language the player does not have is left alone.
    c.onState(state(2, { quality: "240p", audio_lang: "de", subtitle_lang: "ja" }), null);
    expect(player.setAudioLang).toHaveBeenCalledTimes(1);
    expect(player.setSubtitleLang).toHaveBeenCalledTimes(1);
    c.detach();
  });

  it("reports a blocked autoplay", async () => {
    const blocked: boolean[] = [];
    const { v, c } = setup({ onAutoplayBlocked: (b) => void blocked.push(b) });
    v.blocked = true;
    c.onState(state(1), null, true);
    await flush();
    expect(blocked).toEqual([true]);
    c.detach();
  });
});

describe("SyncController: the drift", () => {
  it("bends the rate for a small drift, restores it once converged, without echoing rate changes", async () => {
    const { v, sent, c } = setup();
    v.slip(10);
    c.onState(state(1, { server_time: now + 5000 }), null, true);
    await flush();
    elapse(v, 1000);
    v.slip(10.8); // 200 ms behind (as a slow start would leave it)
    c.tick();
    expect(v.playbackRate).toBe(1.2);
    // 1 s at 1.2×: 0.2 s gained, and the timer puts the speed back.
    for (let i = 0; i < 5; i++) {
      elapse(v, 200);
      await vi.advanceTimersByTimeAsync(200);
      c.tick();
    }
    expect(v.playbackRate).toBe(1);
    expect(v.currentTime).toBeCloseTo(12, 6);
    await flush();
    expect(sent).toEqual([]);
    c.detach();
  });

  it("seeks for a large drift, then learns the seek's stall as a lead for the next one", async () => {
    const { v, sent, c } = setup();
    v.slip(10);
    c.onState(state(1, { server_time: now + 5000 }), null, true);
    await flush();
    elapse(v, 1000);
    v.slip(9); // 2 s behind
    c.tick();
    expect(v.currentTime).toBe(11);
    // The seek stalls 300 ms (the video does not advance), then plays.
    now += 300;
    elapse(v, SEEK_SETTLE_MS - 300);
    c.tick();
    expect(c.seekLead).toBe(0.15);
    await flush();
    expect(sent).toEqual([]);
    c.detach();
  });

  it("measures nothing while the player stalls or seeks", () => {
    const { v, c } = setup();
    c.onState(state(1, { server_time: now + 5000 }), null, true);
    v.readyState = 2;
    v.slip(9);
    c.tick();
    expect(v.currentTime).toBe(9);
    expect(v.playbackRate).toBe(1);
    c.detach();
  });
});

describe("SyncController: the user → the session", () => {
  it("sends play, pause and seeks the user makes, and holds the old state back until the session answers", async () => {
    const { v, sent, c } = setup();
    c.onState(state(1, { status: "paused", playing: false, server_time: now + 5000 }), null, true);
    await flush();
    void v.play();
    await flush();
    expect(sent).toEqual([{ type: "play" }]);
    // Pending: the paused state is not forced back on the video.
    c.tick();
    expect(v.paused).toBe(false);
    c.onState(state(2, { server_time: now + 5000 }), "desktop.chrome.me:1");
    v.currentTime = 30;
    await flush();
    expect(sent.at(-1)).toEqual({ type: "seek", position: 30 });
    v.pause();
    await flush();
    expect(sent.at(-1)).toEqual({ type: "pause" });
    c.detach();
  });

  it("does not send the small seeks a player makes by itself", async () => {
    const { v, sent, c } = setup();
    c.onState(state(1, { server_time: now + 5000 }), null, true);
    await flush();
    v.currentTime = 10.2; // hls.js nudging over a gap
    await flush();
    expect(sent).toEqual([]);
    c.detach();
  });

  it("sends at most one seek per 200 ms while a seek bar is dragged, the latest position last", async () => {
    const { v, sent, c } = setup();
    c.onState(state(1, { server_time: now + 5000 }), null, true);
    await flush();
    for (const t of [20, 21, 22, 23]) {
      v.currentTime = t;
      await flush();
      now += 50;
    }
    expect(sent).toEqual([{ type: "seek", position: 20 }]);
    await vi.advanceTimersByTimeAsync(200);
    expect(sent).toEqual([
      { type: "seek", position: 20 },
      { type: "seek", position: 23 },
    ]);
    // The answer to the first seek does not pull the video back from the second.
    c.onState(state(2, { position: 20, server_time: now + 5000 }), "desktop.chrome.me:1");
    c.tick();
    expect(v.currentTime).toBe(23);
    c.onState(state(3, { position: 23, server_time: now + 5000 }), "desktop.chrome.me:1");
    expect(v.currentTime).toBe(23);
    c.detach();
  });

  it("sends the user's speed, and the player's menus' quality and languages", async () => {
    const { v, player, sent, c } = setup({ qualityScope: "device" });
    c.onState(state(1, { server_time: now + 5000 }), null, true);
    await flush();
    v.playbackRate = 1.5;
    await flush();
    expect(sent).toEqual([{ type: "change_speed", speed: 1.5 }]);
    player.userTrackChange({ q: "144p", audio: "fr", subs: "en" });
    expect(sent.slice(1)).toEqual([
      { type: "change_quality", quality: "144p", scope: "device" },
      { type: "change_lang", audio: "fr", subtitles: "en" },
    ]);
    c.detach();
  });

  it("follows the session again when it does not answer in time", async () => {
    const { v, sent, c } = setup();
    c.onState(state(1, { server_time: now + 5000 }), null, true);
    await flush();
    v.pause();
    await flush();
    expect(sent).toEqual([{ type: "pause" }]);
    now += PENDING_MS;
    c.tick();
    expect(v.paused).toBe(false);
    await flush();
    expect(sent).toEqual([{ type: "pause" }]);
    c.detach();
  });

  it("undoes what this device may not do (a room whose creator controls)", async () => {
    const refused: number[] = [];
    const { v, sent, c } = setup({ canControl: () => false, onControlRefused: () => void refused.push(1) });
    c.onState(state(1, { server_time: now + 5000 }), null, true);
    await flush();
    v.pause();
    await flush();
    expect(sent).toEqual([]);
    expect(v.paused).toBe(false);
    expect(refused).toEqual([1]);
    c.detach();
  });

  it("goes back to the state when the session refuses a message", async () => {
    const { v, c } = setup();
    c.onState(state(1, { server_time: now + 5000 }), null, true);
    await flush();
    v.pause();
    await flush();
    c.onRefused({ code: "rate_limited", message: "" });
    expect(v.paused).toBe(false);
    c.detach();
  });

  it("sends the page's ?t= as a seek on the first state of a session that is not playing", async () => {
    const { v, sent, c } = setup({ start: 42 });
    v.currentTime = 42;
    await flush();
    c.onState(state(1, { status: "paused", playing: false, position: 81.5, server_time: now + 5000 }), null, true);
    expect(sent).toEqual([{ type: "seek", position: 42 }]);
    expect(v.currentTime).toBe(42);
    c.detach();
  });
});

describe("SyncController: a session nobody started", () => {
  it("takes a fresh player to the state's position (where the user left off)", async () => {
    const { v, sent, c } = setup();
    v.duration = 120;
    c.onState(state(1, { status: "idle", playing: false, position: 81.5, server_time: now + 5000 }), null, true);
    expect(v.currentTime).toBe(81.5);
    expect(v.paused).toBe(true);
    await flush();
    expect(sent).toEqual([]);
    c.detach();
  });

  it("brings a running player's position and play into it (a room its creator just opened)", async () => {
    const { v, sent, c } = setup();
    void v.play();
    v.slip(8.25);
    c.onState(state(1, { status: "idle", playing: false, position: 0, server_time: now + 5000 }), null, true);
    await flush();
    expect(sent).toEqual([{ type: "seek", position: 8.25 }, { type: "play" }]);
    expect(v.paused).toBe(false);
    // The seek's answer (an idle session cued there is paused) is not applied before the play's.
    c.onState(state(2, { status: "paused", playing: false, position: 8.25, server_time: now + 5000 }), "desktop.chrome.me:1");
    expect(v.paused).toBe(false);
    c.onState(state(3, { position: 8.25, server_time: now + 5000 }), "desktop.chrome.me:1");
    expect(v.paused).toBe(false);
    c.detach();
  });

  it("leaves a running player alone where it may not control", async () => {
    const { v, sent, c } = setup({ canControl: () => false });
    void v.play();
    v.slip(8.25);
    c.onState(state(1, { status: "idle", playing: false, position: 0, server_time: now + 5000 }), null, true);
    await flush();
    expect(sent).toEqual([]);
    c.detach();
  });
});

describe("SyncController: buffering", () => {
  it("reports a stall longer than 250 ms while playing, and readiness after it", async () => {
    const { v, sent, c } = setup();
    c.onState(state(1, { server_time: now + 5000 }), null, true);
    await flush();
    v.readyState = 2;
    v.fire("waiting");
    await flush();
    await vi.advanceTimersByTimeAsync(BUFFERING_REPORT_MS);
    expect(sent).toEqual([{ type: "buffering" }]);
    v.readyState = 4;
    v.fire("canplay");
    await flush();
    expect(sent).toEqual([{ type: "buffering" }, { type: "ready" }]);
    c.detach();
  });

  it("does not report a short stall, nor the stall of its own correction seek", async () => {
    const { v, sent, c } = setup();
    v.slip(10);
    c.onState(state(1, { server_time: now + 5000 }), null, true);
    await flush();
    v.readyState = 2;
    v.fire("waiting");
    await vi.advanceTimersByTimeAsync(100);
    v.readyState = 4;
    v.fire("playing");
    await vi.advanceTimersByTimeAsync(BUFFERING_REPORT_MS);
    expect(sent).toEqual([]);
    elapse(v, SEEK_SETTLE_MS);
    v.slip(5);
    c.tick(); // 6 s off: a correction seek
    expect(v.currentTime).toBe(11);
    await flush();
    v.readyState = 2;
    v.fire("waiting");
    await vi.advanceTimersByTimeAsync(BUFFERING_REPORT_MS * 2);
    expect(sent).toEqual([]);
    c.detach();
  });
});
