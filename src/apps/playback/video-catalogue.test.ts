/**
 * What a session may switch between, read from the videos domain's real detail of a fixture
 * video (the detail the API serves, so the URLs under test are the ones players get): rungs,
 * audio tracks by id, name or language in any form, subtitles, and the URLs to switch to —
 * tokenized for private videos.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../lib/errors.js";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { createUser } from "../../test/users.fixtures.js";
import type { VideoDetail } from "../videos/index.js";
import { insertPlaybackVideo } from "./playback.fixtures.js";
import { catalogueOf, defaultAudio, resolveAudio, resolveQuality, resolveSubtitles, switchInfo, type Catalogue } from "./video-catalogue.js";

let h: Harness;
let pub: VideoDetail;
let priv: VideoDetail;
let c: Catalogue;

async function detail(id: string): Promise<VideoDetail> {
  const row = await h.domains.videos.repo.findWithOwner(id);
  if (!row) throw new Error(`fixture video ${id} missing`);
  return h.domains.videos.queries.detailOf(row);
}

beforeAll(async () => {
  h = await createHarness();
  const owner = await createUser(h, { role: "uploader" });
  pub = await detail(await insertPlaybackVideo(h, owner.user.id, "public"));
  priv = await detail(await insertPlaybackVideo(h, owner.user.id, "private"));
  c = catalogueOf(pub);
});
afterAll(async () => h.close());

/** Runs `fn`, expecting the AppError it throws. */
function appError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error("expected an AppError, nothing was thrown");
}

describe("catalogueOf", () => {
  it("reads rungs, MP4s, audio tracks (with their folder ids) and subtitles from the detail", () => {
    const v = `/api/videos/${pub.id}`;
    expect(c).toEqual({
      videoId: pub.id,
      duration: 120,
      hlsUrl: `${v}/hls/master.m3u8`,
      qualities: ["480p", "240p"],
      mp4: new Map([
        ["480p", `${v}/stream/480p/`],
        ["240p", `${v}/stream/240p/`],
      ]),
      audio: [
        { id: "a0_en", language: "en", name: "English", isDefault: true, url: `${v}/hls/audio/a0_en/index.m3u8` },
        { id: "a1_en", language: "en", name: "English commentary", isDefault: false, url: `${v}/hls/audio/a1_en/index.m3u8` },
        { id: "a2_fr", language: "fr", name: "français", isDefault: false, url: `${v}/hls/audio/a2_fr/index.m3u8` },
      ],
      subtitles: [
        { lang: "en", name: "English", url: `${v}/hls/subs/s0_en/subs.vtt` },
        { lang: "de", name: "Deutsch", url: `${v}/hls/subs/s1_de/subs.vtt` },
      ],
      token: null,
    });
  });

  it("carries a private video's playback token, which every one of its URLs has", () => {
    const p = catalogueOf(priv);
    expect(priv.playback_token).toEqual(expect.any(String));
    expect(p.token).toBe(priv.playback_token);
    const q = `?token=${encodeURIComponent(p.token!)}`;
    for (const url of [p.hlsUrl, ...p.mp4.values(), ...p.audio.map((a) => a.url), ...p.subtitles.map((s) => s.url)]) expect(url).toMatch(new RegExp(`${escape(q)}$`));
  });

  it("falls back to the probed duration, a built master URL and positional audio ids", () => {
    const d: VideoDetail = {
      ...pub,
      duration: null,
      info: { ...pub.info, duration_seconds: 95.5 },
      hls_url: null,
      audio_tracks: [{ language: "en", name: "Main", default: true, url: "/elsewhere/main.m3u8" }],
    };
    const f = catalogueOf(d);
    expect(f.duration).toBe(95.5);
    expect(f.hlsUrl).toBe(`/api/videos/${pub.id}/hls/master.m3u8`);
    expect(f.audio[0]).toMatchObject({ id: "a0", language: "en" });
    expect(catalogueOf({ ...priv, hls_url: null }).hlsUrl).toBe(`/api/videos/${priv.id}/hls/master.m3u8?token=${encodeURIComponent(priv.playback_token!)}`);
    expect(catalogueOf({ ...d, info: { ...d.info, duration_seconds: null } }).duration).toBeNull();
  });
});

describe("defaultAudio", () => {
  it("is the default track, else the first track, else null", () => {
    expect(defaultAudio(c)).toMatchObject({ id: "a0_en", language: "en" });
    expect(defaultAudio({ ...c, audio: c.audio.map((a) => ({ ...a, isDefault: a.id === "a2_fr" })) })?.language).toBe("fr");
    expect(defaultAudio({ ...c, audio: [c.audio[2]!, c.audio[0]!].map((a) => ({ ...a, isDefault: false })) })?.id).toBe("a2_fr");
    expect(defaultAudio({ ...c, audio: [] })).toBeNull();
  });
});

describe("resolveQuality", () => {
  it("accepts auto and the video's rungs, in any case and spacing, in the video's form", () => {
    expect(resolveQuality(c, "auto")).toBe("auto");
    expect(resolveQuality(c, "AUTO")).toBe("auto");
    expect(resolveQuality(c, "480p")).toBe("480p");
    expect(resolveQuality(c, " 240P ")).toBe("240p");
  });

  it("refuses a rung the video lacks with quality_unavailable, naming the choices", () => {
    for (const q of ["1080p", "360p", "", "best"]) {
      expect(appError(() => resolveQuality(c, q))).toMatchObject({
        status: 400,
        code: "quality_unavailable",
        message: `This video has no "${q}" rendition.`,
        details: [{ location: "message", field: "quality", code: "quality_unavailable", message: "one of auto, 480p, 240p" }],
      });
    }
  });
});

describe("resolveAudio", () => {
  const id = (input: string) => resolveAudio(c, input).id;

  it("takes a track by its id", () => {
    expect(id("a0_en")).toBe("a0_en");
    expect(id("a1_en")).toBe("a1_en");
    expect(id(" a2_fr ")).toBe("a2_fr");
  });

  it("takes a track by its name, case-insensitive", () => {
    expect(id("English commentary")).toBe("a1_en");
    expect(id("ENGLISH COMMENTARY")).toBe("a1_en");
    expect(id("Français")).toBe("a2_fr");
    expect(id("english")).toBe("a0_en");
  });

  it("takes a language in any form toBcp47 knows", () => {
    for (const fr of ["fr", "FR", "fra", "fre", "fr-CA", "fr_FR"]) expect(id(fr)).toBe("a2_fr");
    for (const en of ["en", "eng", "en-US"]) expect(id(en)).toBe("a0_en");
  });

  it("picks the default track among two of one language, else the first of them", () => {
    expect(id("en")).toBe("a0_en");
    const commentaryDefault = { ...c, audio: c.audio.map((a) => ({ ...a, isDefault: a.id === "a1_en" })) };
    expect(resolveAudio(commentaryDefault, "eng").id).toBe("a1_en");
    const noDefault = { ...c, audio: c.audio.map((a) => ({ ...a, isDefault: false })) };
    expect(resolveAudio(noDefault, "en").id).toBe("a0_en");
    // a non-default language track is picked even while another language holds the default
    expect(resolveAudio(commentaryDefault, "fre").id).toBe("a2_fr");
  });

  it("matches a language toBcp47 does not know as written (a track tagged `tlh`)", () => {
    const klingon = { ...c, audio: [...c.audio, { id: "a3_tlh", language: "tlh", name: "tlhIngan Hol", isDefault: false, url: "/x" }] };
    expect(resolveAudio(klingon, "TLH").id).toBe("a3_tlh");
    const subs = { ...c, subtitles: [...c.subtitles, { lang: "tlh", name: "Klingon", url: "/y" }] };
    expect(resolveSubtitles(subs, "tlh")?.lang).toBe("tlh");
    expect(resolveSubtitles(subs, "klingon")?.lang).toBe("tlh");
  });

  it("refuses a language or name the video lacks with language_unavailable", () => {
    for (const input of ["de", "deu", "xx", "Director's cut"]) {
      expect(appError(() => resolveAudio(c, input))).toMatchObject({
        status: 400,
        code: "language_unavailable",
        message: `This video has no "${input}" audio track.`,
        details: [{ location: "message", field: "audio", code: "language_unavailable", message: "one of en, en, fr" }],
      });
    }
    expect(appError(() => resolveAudio({ ...c, audio: [] }, "en")).details).toEqual([{ location: "message", field: "audio", code: "language_unavailable", message: "one of (none)" }]);
  });
});

describe("resolveSubtitles", () => {
  it("turns subtitles off for null, off, none and empty, in any case", () => {
    for (const off of [null, "off", "OFF", "none", "None", "", "  "]) expect(resolveSubtitles(c, off)).toBeNull();
  });

  it("takes a language in any form, answered in the video's form", () => {
    for (const de of ["de", "DE", "deu", "ger", "de-AT"]) expect(resolveSubtitles(c, de)).toEqual({ lang: "de", name: "Deutsch", url: `/api/videos/${pub.id}/hls/subs/s1_de/subs.vtt` });
    expect(resolveSubtitles(c, "eng")?.lang).toBe("en");
  });

  it("takes a track by its name", () => {
    expect(resolveSubtitles(c, "deutsch")?.lang).toBe("de");
  });

  it("refuses a language the video lacks with language_unavailable", () => {
    for (const input of ["fr", "fre", "xx"]) {
      expect(appError(() => resolveSubtitles(c, input))).toMatchObject({
        status: 400,
        code: "language_unavailable",
        message: `This video has no "${input}" subtitles.`,
        details: [{ location: "message", field: "subtitles", code: "language_unavailable", message: "one of off, en, de" }],
      });
    }
  });
});

describe("switchInfo", () => {
  it("gives a rung's playlist and MP4, the audio rendition and the subtitle VTT", () => {
    const v = `/api/videos/${pub.id}`;
    expect(switchInfo(c, "240p", "fr", "de")).toEqual({
      quality: "240p",
      playlist_url: `${v}/hls/240p/index.m3u8`,
      hls_url: `${v}/hls/master.m3u8`,
      mp4_url: `${v}/stream/240p/`,
      audio: { id: "a2_fr", language: "fr", name: "français", url: `${v}/hls/audio/a2_fr/index.m3u8` },
      subtitles: { lang: "de", name: "Deutsch", url: `${v}/hls/subs/s1_de/subs.vtt` },
    });
  });

  it("for auto: the master playlist only, no rung playlist or MP4", () => {
    expect(switchInfo(c, "auto", "en", null)).toMatchObject({ quality: "auto", playlist_url: null, hls_url: `/api/videos/${pub.id}/hls/master.m3u8`, mp4_url: null, subtitles: null });
  });

  it("picks the named track of a shared language, else that language's default", () => {
    expect(switchInfo(c, "auto", "en", null, "a1_en").audio?.id).toBe("a1_en");
    expect(switchInfo(c, "auto", "en", null).audio?.id).toBe("a0_en");
    expect(switchInfo(c, "auto", "fr", null, "nonexistent").audio?.id).toBe("a2_fr");
    expect(switchInfo(c, "auto", null, null).audio).toBeNull();
  });

  it("tokenizes every URL of a private video with its playback token", () => {
    const p = catalogueOf(priv);
    const q = `?token=${encodeURIComponent(p.token!)}`;
    const s = switchInfo(p, "480p", "en", "en", "a1_en");
    const urls = [s.playlist_url, s.hls_url, s.mp4_url, s.audio?.url, s.subtitles?.url];
    expect(urls.every((u) => typeof u === "string")).toBe(true);
    for (const u of urls) expect(u).toMatch(new RegExp(`^/api/videos/${priv.id}/[^?]+${escape(q)}$`));
    expect(s.playlist_url).toBe(`/api/videos/${priv.id}/hls/480p/index.m3u8${q}`);
  });

  it("leaves a public video's URLs without a token", () => {
    const s = switchInfo(c, "480p", "en", "en");
    for (const u of [s.playlist_url, s.hls_url, s.mp4_url, s.audio?.url, s.subtitles?.url]) expect(u).not.toContain("token=");
  });
});

/** A literal string as a RegExp source. */
function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
