import { describe, expect, it } from "vitest";
import {
  backoffMs,
  browserName,
  closeAction,
  closeError,
  describeChange,
  describeDevice,
  describeRemoteError,
  deviceKind,
  newDeviceId,
  parseFrame,
  tabDeviceId,
  type PlaybackState,
} from "./remote-protocol.js";

const STATE: PlaybackState = {
  status: "playing",
  playing: true,
  position: 42.317,
  speed: 1,
  quality: "auto",
  audio_lang: "fr",
  audio_track: "a1_fr",
  subtitle_lang: null,
  version: 7,
  updated_at: "2026-12-03T13:40:00.000Z",
  server_time: 1_796_305_200_317,
  waiting_for: [],
};

describe("parseFrame", () => {
  it("tells the greeting (with session and members) from a state frame", () => {
    const greeting = parseFrame(JSON.stringify({ type: "state", state: STATE, session: { kind: "personal", room: null, device: "tv", can_control: true }, members: [], member_count: 0, by: null }));
    expect(greeting?.kind).toBe("greeting");
    expect(parseFrame(JSON.stringify({ type: "state", state: STATE, by: "phone", version: 7 }))).toEqual({ kind: "state", frame: { type: "state", state: STATE, by: "phone", version: 7 } });
  });

  it("reads presence, pong and error frames; other types pass as `other`", () => {
    expect(parseFrame('{"type":"presence","members":[],"count":3,"room":"K7QX2M"}')).toEqual({ kind: "presence", frame: { type: "presence", members: [], count: 3, room: "K7QX2M" } });
    expect(parseFrame('{"type":"pong","server_time":5,"client_time":3}')).toEqual({ kind: "pong", frame: { type: "pong", server_time: 5, client_time: 3 } });
    expect(parseFrame('{"type":"error","error":{"code":"room_ended","message":"The room ended."}}')).toEqual({ kind: "error", frame: { type: "error", error: { code: "room_ended", message: "The room ended." } } });
    expect(parseFrame('{"type":"comment","comment":{}}')).toEqual({ kind: "other", type: "comment" });
  });

  it("ignores what is not a protocol frame", () => {
    expect(parseFrame("<html>502</html>")).toBeNull();
    expect(parseFrame("[1,2]")).toBeNull();
    expect(parseFrame('{"type":"state","state":{"status":"playing"}}')).toBeNull();
    expect(parseFrame('{"type":"pong"}')).toBeNull();
  });
});

describe("closeAction / closeError", () => {
  it("refreshes the token on 4401 when signed in, stops on the other refusals, reconnects otherwise", () => {
    expect(closeAction(4401, true)).toBe("refresh");
    expect(closeAction(4401, false)).toBe("stop");
    for (const code of [4400, 4403, 4404, 1003, 1009]) expect(closeAction(code, true)).toBe("stop");
    for (const code of [1000, 1001, 1006, 1008, 1011]) expect(closeAction(code, true)).toBe("reconnect");
  });

  it("reads the error code from the close reason", () => {
    expect(closeError(4404, "room_ended")).toEqual({ code: "room_ended", message: "" });
    expect(closeError(4401, "")).toEqual({ code: "session_ended", message: "" });
    expect(closeError(1006, "")).toBeNull();
  });
});

describe("backoffMs", () => {
  it("doubles from 0.5 s up to 30 s, with up to half of it taken off at random", () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 1))).toEqual([500, 1000, 2000, 4000, 30_000]);
    expect([0, 1, 5, 6].map((a) => backoffMs(a, 0))).toEqual([250, 500, 8000, 15_000]);
  });
});

describe("errors in words", () => {
  it("names the room, session and control refusals", () => {
    expect(describeRemoteError({ code: "room_ended", message: "" })).toBe("This watch room has ended.");
    expect(describeRemoteError({ code: "room_not_found", message: "" })).toBe("This watch room does not exist or has ended.");
    expect(describeRemoteError({ code: "session_ended", message: "" })).toMatch(/sign-in session ended/);
    expect(describeRemoteError({ code: "mystery", message: "Something odd." })).toBe("Something odd.");
    expect(describeRemoteError({ code: "mystery", message: "" })).toBe("Live control failed (mystery).");
  });
});

describe("device ids", () => {
  const UA = {
    androidPhone: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
    androidTablet: "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    iphone: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    ipadOs: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    tizen: "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36",
    firefox: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    edge: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0",
  };

  it("guesses the kind of device and the browser from the user agent", () => {
    expect(deviceKind(UA.androidPhone)).toBe("phone");
    expect(deviceKind(UA.iphone)).toBe("phone");
    expect(deviceKind(UA.androidTablet)).toBe("tablet");
    expect(deviceKind(UA.ipadOs, 5)).toBe("tablet");
    expect(deviceKind(UA.ipadOs, 0)).toBe("desktop");
    expect(deviceKind(UA.tizen)).toBe("tv");
    expect(deviceKind(UA.firefox)).toBe("desktop");
    expect([UA.androidPhone, UA.iphone, UA.firefox, UA.edge].map(browserName)).toEqual(["chrome", "safari", "firefox", "edge"]);
  });

  it("builds ids the protocol accepts and reads them back as labels", () => {
    const id = tabDeviceId(newDeviceId("phone", "chrome", "3f9a-77c2-e0d1-99aa"), "x7-k");
    expect(id).toBe("phone.chrome.3f9a77c2e0d1:x7k");
    expect(id).toMatch(/^[A-Za-z0-9_.:-]{1,64}$/);
    expect(describeDevice(id)).toEqual({ kind: "phone", label: "Chrome on phone" });
    expect(describeDevice("tv.samsung.abc:1")).toEqual({ kind: "tv", label: "Samsung Internet on TV" });
    expect(describeDevice("6f1c1f7e-7d6a-4a55-9a43-0d3b1c2f9e11")).toEqual({ kind: "device", label: "Device 6f1c1f7e-7d6" });
  });
});

describe("describeChange", () => {
  const paused = { ...STATE, status: "paused" as const, playing: false, version: 8, server_time: STATE.server_time + 2000, position: 44.317 };

  it("names play and pause, not the position they rebase", () => {
    expect(describeChange(STATE, paused)).toBe("Paused");
    expect(describeChange(paused, { ...paused, status: "playing", playing: true, version: 9 })).toBe("Playing");
    expect(describeChange(null, STATE)).toBe("Playing");
  });

  it("names a jump, with the new time", () => {
    expect(describeChange(STATE, { ...STATE, version: 8, server_time: STATE.server_time + 1000, position: 90 })).toBe("Jumped to 1:30");
    expect(describeChange(STATE, { ...paused, position: 3725 })).toBe("Paused at 1:02:05");
  });

  it("names speed, quality, audio and subtitles", () => {
    expect(describeChange(STATE, { ...STATE, version: 8, speed: 1.5 })).toBe("Speed 1.5×");
    expect(describeChange(STATE, { ...STATE, version: 8, quality: "240p", subtitle_lang: "en" })).toBe("Quality 240p, subtitles en");
    expect(describeChange({ ...STATE, subtitle_lang: "en" }, { ...STATE, version: 8, audio_lang: "en", audio_track: "a0_en" })).toBe("Audio en, subtitles off");
    expect(describeChange(STATE, { ...STATE, version: 8 })).toBeNull();
  });
});
