/**
 * The pure state rules of a playback session, with exact numbers: every rule takes `now`, so
 * nothing here reads the clock or waits. T is an arbitrary fixed instant; offsets are in ms.
 */
import { describe, expect, it } from "vitest";
import { AppError } from "../../lib/errors.js";
import {
  MAX_SPEED,
  MIN_SPEED,
  changeLang,
  changeQuality,
  changeSpeed,
  initialState,
  parseStored,
  pause,
  play,
  positionAt,
  readinessChanged,
  seek,
  settle,
  toView,
  validPosition,
  type PlayOptions,
  type StoredState,
} from "./playback-state.js";

const T = 1_700_000_000_000;
const D = 120;
const bounds = { duration: D };
const unbounded = { duration: null };
const noWait: PlayOptions = { notReady: [], waitTimeoutMs: 10_000 };

/** A state built from the initial one: each test states only what it is about. */
function state(patch: Partial<StoredState> = {}): StoredState {
  return { ...initialState(T), ...patch };
}

/** Runs `fn`, expecting the AppError it throws; returns it for its fields. */
function appError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error("expected an AppError, nothing was thrown");
}

describe("initialState", () => {
  it("starts idle at 0, speed 1, auto quality, no languages chosen", () => {
    expect(initialState(T)).toEqual({
      status: "idle",
      position: 0,
      speed: 1,
      quality: "auto",
      audioLang: null,
      audioTrack: null,
      subtitleLang: null,
      updatedAtMs: T,
      waitingFor: [],
      waitingUntilMs: null,
    });
  });

  it("takes a resume position and the video's default audio", () => {
    expect(initialState(T, { position: 42.5, audioLang: "en" })).toMatchObject({ status: "idle", position: 42.5, audioLang: "en", subtitleLang: null, updatedAtMs: T });
  });
});

describe("positionAt", () => {
  it("extrapolates a playing state from updatedAtMs by speed", () => {
    const s = state({ status: "playing", position: 10 });
    expect(positionAt(s, T, D)).toBe(10);
    expect(positionAt(s, T + 2500, D)).toBe(12.5);
    expect(positionAt({ ...s, speed: 2 }, T + 2500, D)).toBe(15);
    expect(positionAt({ ...s, speed: 0.25 }, T + 2000, D)).toBe(10.5);
    expect(positionAt({ ...s, speed: 4 }, T + 1500, D)).toBe(16);
  });

  it("does not move a paused, idle or waiting state", () => {
    for (const status of ["paused", "idle", "waiting"] as const) {
      expect(positionAt(state({ status, position: 10, waitingUntilMs: status === "waiting" ? T + 60_000 : null }), T + 5000, D)).toBe(10);
    }
  });

  it("clamps at the duration, and not at all when the duration is unknown", () => {
    const s = state({ status: "playing", position: 118 });
    expect(positionAt(s, T + 1000, D)).toBe(119);
    expect(positionAt(s, T + 5000, D)).toBe(120);
    expect(positionAt(s, T + 3_600_000, D)).toBe(120);
    expect(positionAt(s, T + 5000, null)).toBe(123);
  });

  it("clamps at 0 and never runs backwards when `now` is before updatedAtMs (another process's clock)", () => {
    expect(positionAt(state({ position: -3 }), T, D)).toBe(0);
    expect(positionAt(state({ status: "playing", position: 10 }), T - 500, D)).toBe(10);
  });

  it("rounds to the millisecond", () => {
    // 0.333 s at 1.25× is 0.41625 s
    expect(positionAt(state({ status: "playing", position: 0, speed: 1.25 }), T + 333, D)).toBe(0.416);
  });

  it("counts a waiting state past its deadline as playing since the deadline", () => {
    const s = state({ status: "waiting", position: 30, waitingFor: ["tv"], waitingUntilMs: T + 10_000 });
    expect(positionAt(s, T + 9_999, D)).toBe(30);
    expect(positionAt(s, T + 10_000, D)).toBe(30);
    expect(positionAt(s, T + 12_500, D)).toBe(32.5);
  });
});

describe("validPosition", () => {
  it("accepts 0 to the duration, rounded to the millisecond", () => {
    expect(validPosition(0, bounds)).toBe(0);
    expect(validPosition(120, bounds)).toBe(120);
    expect(validPosition(12.34567, bounds)).toBe(12.346);
    expect(validPosition(1_000_000, unbounded)).toBe(1_000_000);
  });

  it("refuses negative, past-the-end and non-finite positions with position_out_of_range", () => {
    for (const p of [-0.001, -1, 120.001, 1000, Number.NaN, Number.POSITIVE_INFINITY]) {
      const e = appError(() => validPosition(p, bounds));
      expect(e).toMatchObject({ status: 400, code: "position_out_of_range", message: "position must be 0 to 120 seconds.", details: [{ location: "message", field: "position", code: "position_out_of_range", message: "0 to 120" }] });
    }
  });

  it("says so when only the lower bound is known", () => {
    const e = appError(() => validPosition(-1, unbounded));
    expect(e).toMatchObject({ status: 400, code: "position_out_of_range", message: "position must be 0 or more seconds.", details: [{ location: "message", field: "position", code: "position_out_of_range", message: "0 or more" }] });
  });
});

describe("play", () => {
  it("starts an idle session where it stands, from now", () => {
    const s = play(state({ position: 42.5 }), T + 1000, bounds, noWait);
    expect(s).toEqual({ ...state({ position: 42.5 }), status: "playing", updatedAtMs: T + 1000 });
    expect(positionAt(s, T + 3000, D)).toBe(44.5);
  });

  it("resumes a paused session without losing or gaining time", () => {
    const s = play(state({ status: "paused", position: 10, updatedAtMs: T - 60_000 }), T, bounds, noWait);
    expect(s).toMatchObject({ status: "playing", position: 10, updatedAtMs: T });
  });

  it("rebases a session that already plays (a second play is harmless)", () => {
    const s = play(state({ status: "playing", position: 10, speed: 2 }), T + 1000, bounds, noWait);
    expect(s).toMatchObject({ status: "playing", position: 12, speed: 2, updatedAtMs: T + 1000 });
  });

  it("restarts at 0 from the end, stored there or played to it", () => {
    expect(play(state({ status: "paused", position: 120 }), T, bounds, noWait)).toMatchObject({ status: "playing", position: 0, updatedAtMs: T });
    expect(play(state({ status: "playing", position: 118 }), T + 5000, bounds, noWait)).toMatchObject({ status: "playing", position: 0, updatedAtMs: T + 5000 });
    // just before the end is not the end
    expect(play(state({ status: "paused", position: 119.999 }), T, bounds, noWait)).toMatchObject({ position: 119.999 });
    // without a duration there is no end to restart from
    expect(play(state({ status: "paused", position: 500 }), T, unbounded, noWait)).toMatchObject({ status: "playing", position: 500 });
  });

  it("waits for devices that are not ready, sorted, until now + the timeout", () => {
    const s = play(state({ status: "paused", position: 30 }), T, bounds, { notReady: ["tv", "phone"], waitTimeoutMs: 10_000 });
    expect(s).toMatchObject({ status: "waiting", position: 30, updatedAtMs: T, waitingFor: ["phone", "tv"], waitingUntilMs: T + 10_000 });
    expect(positionAt(s, T + 5000, D)).toBe(30);
  });

  it("clears a previous wait when nobody is buffering any more", () => {
    const waiting = state({ status: "waiting", position: 30, waitingFor: ["tv"], waitingUntilMs: T + 10_000 });
    expect(play(waiting, T + 1000, bounds, noWait)).toMatchObject({ status: "playing", position: 30, updatedAtMs: T + 1000, waitingFor: [], waitingUntilMs: null });
  });
});

describe("pause", () => {
  it("freezes the extrapolated position at now", () => {
    const s = pause(state({ status: "playing", position: 10, speed: 2 }), T + 3000, bounds);
    expect(s).toMatchObject({ status: "paused", position: 16, speed: 2, updatedAtMs: T + 3000, waitingFor: [], waitingUntilMs: null });
    expect(positionAt(s, T + 60_000, D)).toBe(16);
  });

  it("pauses at the duration when the playhead ran past it", () => {
    expect(pause(state({ status: "playing", position: 110 }), T + 30_000, bounds)).toMatchObject({ status: "paused", position: 120 });
  });

  it("ends a wait", () => {
    const waiting = state({ status: "waiting", position: 30, waitingFor: ["tv"], waitingUntilMs: T + 10_000 });
    expect(pause(waiting, T + 1000, bounds)).toMatchObject({ status: "paused", position: 30, waitingFor: [], waitingUntilMs: null });
  });

  it("pauses at the deadline's extrapolation when the wait already ended", () => {
    const waiting = state({ status: "waiting", position: 30, waitingFor: ["tv"], waitingUntilMs: T + 10_000 });
    expect(pause(waiting, T + 14_000, bounds)).toMatchObject({ status: "paused", position: 34, updatedAtMs: T + 14_000 });
  });
});

describe("seek", () => {
  it("cues an idle session: paused at the position", () => {
    expect(seek(state(), T + 500, bounds, 42)).toMatchObject({ status: "paused", position: 42, updatedAtMs: T + 500 });
  });

  it("keeps a playing session playing from the new position, now", () => {
    const s = seek(state({ status: "playing", position: 10 }), T + 5000, bounds, 60);
    expect(s).toMatchObject({ status: "playing", position: 60, updatedAtMs: T + 5000 });
    expect(positionAt(s, T + 6000, D)).toBe(61);
  });

  it("keeps a paused session paused, and accepts both ends", () => {
    expect(seek(state({ status: "paused", position: 10 }), T, bounds, 0)).toMatchObject({ status: "paused", position: 0 });
    expect(seek(state({ status: "paused", position: 10 }), T, bounds, 120)).toMatchObject({ status: "paused", position: 120 });
  });

  it("rounds to the millisecond", () => {
    expect(seek(state(), T, bounds, 1.23456).position).toBe(1.235);
  });

  it("refuses a position out of range with its bounds", () => {
    expect(appError(() => seek(state(), T, bounds, 121))).toMatchObject({ status: 400, code: "position_out_of_range", details: [{ field: "position", message: "0 to 120" }] });
    expect(appError(() => seek(state(), T, bounds, -5))).toMatchObject({ status: 400, code: "position_out_of_range", details: [{ field: "position", message: "0 to 120" }] });
  });
});

describe("changeSpeed", () => {
  it("rebases first, so the time played at the old speed is kept", () => {
    const s = changeSpeed(state({ status: "playing", position: 0 }), T + 4000, bounds, 2);
    expect(s).toMatchObject({ status: "playing", position: 4, speed: 2, updatedAtMs: T + 4000 });
    expect(positionAt(s, T + 5000, D)).toBe(6);
  });

  it("changes a paused session's speed without moving it", () => {
    expect(changeSpeed(state({ status: "paused", position: 7 }), T + 4000, bounds, 0.5)).toMatchObject({ status: "paused", position: 7, speed: 0.5 });
  });

  it("accepts MIN_SPEED (0.25) and MAX_SPEED (4)", () => {
    expect([MIN_SPEED, MAX_SPEED]).toEqual([0.25, 4]);
    expect(changeSpeed(state(), T, bounds, 0.25).speed).toBe(0.25);
    expect(changeSpeed(state(), T, bounds, 4).speed).toBe(4);
  });

  it("refuses 0, 10 and anything outside 0.25–4 with speed_out_of_range", () => {
    for (const speed of [0, 10, 0.24, 4.01, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(appError(() => changeSpeed(state(), T, bounds, speed))).toMatchObject({
        status: 400,
        code: "speed_out_of_range",
        message: "speed must be between 0.25 and 4.",
        details: [{ location: "message", field: "speed", code: "speed_out_of_range", message: "0.25 to 4" }],
      });
    }
  });
});

describe("changeQuality and changeLang", () => {
  it("changeQuality sets the rung and rebases", () => {
    expect(changeQuality(state({ status: "playing", position: 10 }), T + 2000, bounds, "480p")).toMatchObject({ status: "playing", quality: "480p", position: 12, updatedAtMs: T + 2000 });
  });

  it("changeLang sets the audio, the subtitles, both, or neither", () => {
    const s = state({ status: "paused", position: 5, audioLang: "en", subtitleLang: "en" });
    expect(changeLang(s, T + 1, bounds, { audioLang: "fr" })).toMatchObject({ audioLang: "fr", subtitleLang: "en", position: 5, updatedAtMs: T + 1 });
    expect(changeLang(s, T + 1, bounds, { subtitleLang: "de" })).toMatchObject({ audioLang: "en", subtitleLang: "de" });
    expect(changeLang(s, T + 1, bounds, { subtitleLang: null })).toMatchObject({ audioLang: "en", subtitleLang: null });
    expect(changeLang(s, T + 1, bounds, { audioLang: "fr", subtitleLang: "de" })).toMatchObject({ audioLang: "fr", subtitleLang: "de" });
    expect(changeLang(s, T + 1, bounds, {})).toMatchObject({ audioLang: "en", subtitleLang: "en" });
    // The track travels with its language (two tracks may share one), and a language alone clears a stale track.
    expect(changeLang(s, T + 1, bounds, { audioLang: "en", audioTrack: "a1_en" })).toMatchObject({ audioLang: "en", audioTrack: "a1_en" });
    expect(changeLang({ ...s, audioTrack: "a1_en" }, T + 1, bounds, { audioLang: "fr" })).toMatchObject({ audioLang: "fr", audioTrack: null });
  });

  it("changeLang on a playing session keeps the time played", () => {
    expect(changeLang(state({ status: "playing", position: 10, speed: 1.5 }), T + 2000, bounds, { audioLang: "fr" })).toMatchObject({ status: "playing", position: 13, audioLang: "fr", updatedAtMs: T + 2000 });
  });
});

describe("settle", () => {
  const waiting = state({ status: "waiting", position: 30, waitingFor: ["tv"], waitingUntilMs: T + 10_000 });

  it("leaves a wait alone before its deadline (the very same object)", () => {
    expect(settle(waiting, T + 9_999)).toBe(waiting);
  });

  it("turns a wait past its deadline into playing since the deadline", () => {
    const s = settle(waiting, T + 12_000);
    expect(s).toEqual({ ...waiting, status: "playing", updatedAtMs: T + 10_000, waitingFor: [], waitingUntilMs: null });
    expect(positionAt(s, T + 12_000, D)).toBe(32);
    expect(settle(waiting, T + 10_000)).toMatchObject({ status: "playing", updatedAtMs: T + 10_000 });
  });

  it("leaves every other state alone", () => {
    for (const s of [state(), state({ status: "paused" }), state({ status: "playing" }), state({ status: "waiting", waitingUntilMs: null })]) {
      expect(settle(s, T + 3_600_000)).toBe(s);
    }
  });
});

describe("readinessChanged", () => {
  const waitOpts = (notReady: string[]): PlayOptions => ({ notReady, waitTimeoutMs: 10_000 });
  const waiting = state({ status: "waiting", position: 30, waitingFor: ["phone", "tv"], waitingUntilMs: T + 10_000 });

  it("narrows the set waited for, keeping the deadline", () => {
    expect(readinessChanged(waiting, T + 2000, bounds, waitOpts(["tv"]))).toEqual({ ...waiting, waitingFor: ["tv"] });
  });

  it("widens it too, sorted (a member starts buffering during the wait)", () => {
    expect(readinessChanged(waiting, T + 2000, bounds, waitOpts(["tv", "laptop", "phone"])).waitingFor).toEqual(["laptop", "phone", "tv"]);
  });

  it("starts everyone together, now, when the set empties", () => {
    const s = readinessChanged(waiting, T + 3000, bounds, waitOpts([]));
    expect(s).toEqual({ ...waiting, status: "playing", position: 30, updatedAtMs: T + 3000, waitingFor: [], waitingUntilMs: null });
    expect(positionAt(s, T + 4000, D)).toBe(31);
  });

  it("makes a playing room wait for a member that starts buffering, from where it is now", () => {
    const s = readinessChanged(state({ status: "playing", position: 10 }), T + 4000, bounds, waitOpts(["tv"]));
    expect(s).toMatchObject({ status: "waiting", position: 14, updatedAtMs: T + 4000, waitingFor: ["tv"], waitingUntilMs: T + 14_000 });
  });

  it("a wait past its deadline is playing: a new buffering member starts a new wait", () => {
    const s = readinessChanged(waiting, T + 12_000, bounds, waitOpts(["tv"]));
    expect(s).toMatchObject({ status: "waiting", position: 32, updatedAtMs: T + 12_000, waitingFor: ["tv"], waitingUntilMs: T + 22_000 });
  });

  it("changes nothing (the very same object) otherwise: no version is bumped for it", () => {
    for (const s of [state(), state({ status: "paused", position: 3 }), state({ status: "playing", position: 3 })]) {
      expect(readinessChanged(s, T + 1000, bounds, waitOpts(s.status === "playing" ? [] : ["tv"]))).toBe(s);
    }
  });
});

describe("toView", () => {
  it("is the client's snake_case view with the live position and the server time", () => {
    const s = state({ status: "playing", position: 10, speed: 2, quality: "480p", audioLang: "en", audioTrack: "a1_en", subtitleLang: "de" });
    expect(toView(s, 7, T + 1500, D)).toEqual({
      status: "playing",
      playing: true,
      position: 13,
      speed: 2,
      quality: "480p",
      audio_lang: "en",
      audio_track: "a1_en",
      subtitle_lang: "de",
      version: 7,
      updated_at: new Date(T).toISOString(),
      server_time: T + 1500,
      waiting_for: [],
    });
  });

  it("says playing only while playing", () => {
    for (const status of ["idle", "paused", "waiting"] as const) {
      expect(toView(state({ status, waitingUntilMs: status === "waiting" ? T + 60_000 : null }), 1, T, D).playing).toBe(false);
    }
  });

  it("shows a device's own quality over the session's", () => {
    expect(toView(state({ quality: "480p" }), 1, T, D, "240p").quality).toBe("240p");
    expect(toView(state({ quality: "480p" }), 1, T, D, null).quality).toBe("480p");
  });

  it("shows who a room waits for, and a wait past its deadline as playing since then", () => {
    const waiting = state({ status: "waiting", position: 30, waitingFor: ["tv"], waitingUntilMs: T + 10_000 });
    expect(toView(waiting, 3, T + 1000, D)).toMatchObject({ status: "waiting", playing: false, position: 30, waiting_for: ["tv"] });
    expect(toView(waiting, 3, T + 11_000, D)).toMatchObject({ status: "playing", playing: true, position: 31, waiting_for: [], updated_at: new Date(T + 10_000).toISOString() });
  });

  it("clamps the position at the duration", () => {
    expect(toView(state({ status: "playing", position: 119 }), 1, T + 10_000, D).position).toBe(120);
  });
});

describe("parseStored", () => {
  it("reads back what the store wrote", () => {
    const s = play(state({ position: 5 }), T, bounds, { notReady: ["b", "a"], waitTimeoutMs: 100 });
    expect(parseStored(JSON.stringify(s))).toEqual(s);
  });
});
