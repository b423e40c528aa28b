/**
 * Thumbnail route, custom poster and subtitles API at their edges (access rules, validation,
 * limits, caching, concurrency, results stored before the packaging fields existed), on videos
 * whose conversion result is written directly (no ffmpeg).
 */
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TranscodeResult } from "../../contracts/transcode.messages.js";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { multipartBody, parseMaster } from "./media-extras.fixtures.js";
import { POSTER_MAX_BYTES } from "./poster.service.js";
import { parseSubtitleLanguage, type StoredMedia } from "./subtitles.service.js";
import { thumbCacheControl, thumbContentType } from "../../contracts/media-layout.js";
import { tokenizeStoryboardVtt } from "../streaming/index.js";
import { videoKeys } from "../../contracts/media-layout.js";
import type { VideosModule } from "./videos.module.js";

const media = (id: string, extra: Partial<TranscodeResult> = { segmentType: "mpegts", mpegtsStartPts: 126_000 }): TranscodeResult => {
  const p = videoKeys.prefix(id);
  return {
    masterKey: `${p}hls/master.m3u8`,
    durationS: 12.34,
    renditions: [
      { quality: "240p", width: 426, height: 240, bitrate: 400_000, bandwidth: 500_000, averageBandwidth: 400_000, codecs: "avc1.64001e,mp4a.40.2", fps: 25, playlistKey: `${p}hls/240p/index.m3u8`, mp4Key: null, sizeBytes: 150_000 },
    ],
    audioTracks: [{ language: "en", name: "English", isDefault: true, playlistKey: `${p}hls/audio/en/index.m3u8`, codecs: "mp4a.40.2", bitrate: 128_000 }],
    subtitleTracks: [],
    thumbnails: {
      posterKey: `${p}thumbs/poster.jpg`,
      candidateKeys: [`${p}thumbs/c0.jpg`, `${p}thumbs/c1.jpg`],
      storyboardKey: `${p}thumbs/storyboard.jpg`,
      storyboardVttKey: `${p}thumbs/storyboard.vtt`,
    },
    ...extra,
  };
};

const STORYBOARD_VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:10.000\nstoryboard.jpg#xywh=0,0,160,90\n\n00:00:10.000 --> 00:00:12.340\nstoryboard.jpg#xywh=160,0,160,90\n";

describe("thumbnails, custom poster and subtitles API", () => {
  let h: Harness;
  let mod: VideosModule;
  let owner: TestUser;
  let other: TestUser;
  let admin: TestUser;
  let jpeg: Buffer;

  const get = (url: string, headers: Record<string, string> = {}) => h.app.inject({ url, headers });
  const put = (url: string, body: Buffer | string, who: TestUser | null, filename = "f.bin") => {
    const m = multipartBody(body, { filename });
    return h.app.inject({ method: "PUT", url, payload: m.payload, headers: { ...m.headers, ...(who ? authHeader(who.access) : {}) } });
  };

  async function makeVideo(opts: { visibility?: "public" | "private"; converted?: boolean; media?: TranscodeResult | ((id: string) => TranscodeResult) } = {}) {
    const v = await mod.videos.create({ ownerId: owner.user.id, title: "Clip", description: "", visibility: opts.visibility ?? "public", language: "en", originalFilename: "c.mp4", sizeBytes: 1000 });
    if (opts.converted !== false) {
      const m = typeof opts.media === "function" ? opts.media(v.id) : (opts.media ?? media(v.id));
      await mod.repo.update(v.id, { status: "ready", playable: 1, media: JSON.stringify(m), duration_s: 12.34 });
      const p = videoKeys.prefix(v.id);
      for (const name of ["poster.jpg", "c0.jpg", "c1.jpg", "storyboard.jpg"]) await h.ctx.storage.put(`${p}thumbs/${name}`, jpeg);
      await h.ctx.storage.put(`${p}thumbs/storyboard.vtt`, STORYBOARD_VTT);
      await h.ctx.storage.put(`${p}hls/240p/index.m3u8`, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4.0,\nseg_00000.m4s\n#EXT-X-ENDLIST\n");
      await h.ctx.storage.put(m.masterKey, "#EXTM3U\n");
    }
    return v.id;
  }

  beforeAll(async () => {
    h = await createHarness();
    mod = h.domains.videos;
    owner = await createUser(h, { role: "uploader" });
    other = await createUser(h, { role: "user" });
    admin = await createUser(h, { role: "admin" });
    jpeg = await sharp({ create: { width: 64, height: 36, channels: 3, background: { r: 10, g: 120, b: 200 } } }).jpeg().toBuffer();
  });
  afterAll(async () => h?.close());

  describe("GET /api/videos/{id}/thumbs/{name}", () => {
    it("serves public thumbnails with content type, cache headers, validators and HEAD", async () => {
      const id = await makeVideo();
      const r = await get(`/api/videos/${id}/thumbs/poster.jpg`);
      expect(r.statusCode).toBe(200);
      expect(r.headers).toMatchObject({ "content-type": "image/jpeg", "cache-control": "public, max-age=3600", "content-length": String(jpeg.length) });
      expect(r.rawPayload.equals(jpeg)).toBe(true);
      const etag = r.headers.etag as string;
      expect(etag).toBeTruthy();
      expect((await get(`/api/videos/${id}/thumbs/poster.jpg`, { "if-none-match": etag })).statusCode).toBe(304);
      const head = await h.app.inject({ method: "HEAD", url: `/api/videos/${id}/thumbs/c1.jpg` });
      expect(head.statusCode).toBe(200);
      expect(head.body).toBe("");
      const vtt = await get(`/api/videos/${id}/thumbs/storyboard.vtt`);
      expect(vtt.headers["content-type"]).toBe("text/vtt; charset=utf-8");
      expect(vtt.body).toBe(STORYBOARD_VTT);
    });

    it("validates names: nothing outside thumbs/, nothing not ours, missing files 404", async () => {
      const id = await makeVideo();
      for (const name of ["..%2Fhls%2Fmaster.m3u8", "poster.png", "c10.jpg", "storyboard.txt", ".poster.jpg", "poster.jpg%00", "custom-poster.jpg"]) {
        const r = await get(`/api/videos/${id}/thumbs/${name}`);
        expect(r.statusCode, name).toBe(404);
      }
      // dot segments are resolved before routing (here to the detail): never a thumbnail response
      expect((await get(`/api/videos/${id}/thumbs/%2E%2E`)).headers["content-type"]).toMatch(/^application\/json/);
      expect((await get(`/api/videos/${crypto.randomUUID()}/thumbs/poster.jpg`)).statusCode).toBe(404);
      expect((await get(`/api/videos/not-a-uuid/thumbs/poster.jpg`)).statusCode).toBe(404);
    });

    it("private videos: 404 without credentials, the detail's token or the owner's bearer work, another video's token is 403", async () => {
      const id = await makeVideo({ visibility: "private" });
      const otherId = await makeVideo({ visibility: "private" });
      expect((await get(`/api/videos/${id}/thumbs/poster.jpg`)).statusCode).toBe(404);
      expect((await get(`/api/videos/${id}/thumbs/poster.jpg`, authHeader(other.access))).statusCode).toBe(404);
      const d = (await get(`/api/videos/${id}/`, authHeader(owner.access))).json();
      expect(d.thumbnails.poster).toBe(`/api/videos/${id}/thumbs/poster.jpg?token=${encodeURIComponent(d.playback_token)}`);
      const r = await get(d.thumbnails.poster);
      expect(r.statusCode).toBe(200);
      expect(r.headers["cache-control"]).toBe("private, max-age=3600");
      expect((await get(`/api/videos/${id}/thumbs/c0.jpg`, authHeader(admin.access))).statusCode).toBe(200);
      const foreign = (await get(`/api/videos/${otherId}/`, authHeader(owner.access))).json().playback_token as string;
      const wrong = await get(`/api/videos/${id}/thumbs/poster.jpg?token=${encodeURIComponent(foreign)}`);
      expect(wrong.statusCode).toBe(403);
      expect(wrong.json().error.code).toBe("playback_token_wrong_video");
      // the storyboard index carries the token into its image URIs
      const vtt = await get(d.thumbnails.storyboard_vtt);
      expect(vtt.statusCode).toBe(200);
      expect(vtt.headers["cache-control"]).toBe("private, no-store");
      expect(vtt.body).toBe(tokenizeStoryboardVtt(STORYBOARD_VTT, d.playback_token));
      expect(vtt.body).toContain(`storyboard.jpg?token=${encodeURIComponent(d.playback_token)}#xywh=160,0,160,90`);
    });

    it("pure helpers", () => {
      expect(thumbContentType("c4.jpg")).toBe("image/jpeg");
      expect(thumbContentType("storyboard.webp")).toBe("image/webp");
      expect(thumbContentType("storyboard.vtt")).toBe("text/vtt; charset=utf-8");
      expect(thumbContentType("../poster.jpg")).toBeNull();
      expect(thumbCacheControl("custom-poster.jpg", false)).toBe("public, no-cache");
      expect(thumbCacheControl("c0.jpg", true)).toBe("private, max-age=3600");
      expect(tokenizeStoryboardVtt("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nsheet.webp?v=2#xywh=0,0,160,90\n", "a b")).toBe(
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nsheet.webp?v=2&token=a%20b#xywh=0,0,160,90\n",
      );
    });
  });

  describe("PUT /api/videos/{id}/poster/", () => {
    it("re-encodes an image to a JPEG of at most 1280 px, preferred by the detail; PATCH poster_candidate switches back", async () => {
      const id = await makeVideo();
      const png = await sharp({ create: { width: 2000, height: 1000, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer();
      const r = await put(`/api/videos/${id}/poster/`, png, owner, "poster.jpg.exe");
      expect(r.statusCode).toBe(200);
      expect(r.json().poster).toBe(`/api/videos/${id}/thumbs/custom-poster.jpg`);
      expect(r.json().thumbnails.poster).toBe(`/api/videos/${id}/thumbs/custom-poster.jpg`);
      // stored with what people uploaded, apart from the conversion's thumbs/
      expect((await mod.repo.find(id))!.custom_poster_key).toBe(`videos/${id}/uploads/poster.jpg`);
      const img = await get(`/api/videos/${id}/thumbs/custom-poster.jpg`);
      expect(img.statusCode).toBe(200);
      expect(img.headers["cache-control"]).toBe("public, no-cache");
      expect((await get(`/api/videos/${id}/thumbs/custom-poster.jpg`, { "if-none-match": img.headers.etag as string })).statusCode).toBe(304);
      expect(await sharp(img.rawPayload).metadata()).toMatchObject({ format: "jpeg", width: 1280, height: 640, hasAlpha: false });
      // staff may too; the list shows it
      const webp = await sharp({ create: { width: 300, height: 500, channels: 3, background: "#0f0" } }).webp().toBuffer();
      expect((await put(`/api/videos/${id}/poster/`, webp, admin)).statusCode).toBe(200);
      expect(await sharp((await get(`/api/videos/${id}/thumbs/custom-poster.jpg`)).rawPayload).metadata()).toMatchObject({ width: 300, height: 500 });
      const back = await h.app.inject({ method: "PATCH", url: `/api/videos/${id}/`, payload: { poster_candidate: 1 }, headers: authHeader(owner.access) });
      expect(back.json().poster).toBe(`/api/videos/${id}/thumbs/c1.jpg`);
    });

    it("refuses non-images (415), missing files (400), files over 5 MB (413), others (403) and anonymous callers (401)", async () => {
      const id = await makeVideo();
      const text = await put(`/api/videos/${id}/poster/`, "<svg xmlns='http://www.w3.org/2000/svg'/>", owner, "x.png");
      expect(text.statusCode).toBe(415);
      expect(text.json().error.code).toBe("unsupported_image");
      const truncated = await put(`/api/videos/${id}/poster/`, jpeg.subarray(0, 40), owner);
      expect(truncated.statusCode).toBe(415);
      const m = multipartBody(jpeg, { field: "image" });
      const wrongField = await h.app.inject({ method: "PUT", url: `/api/videos/${id}/poster/`, payload: m.payload, headers: { ...m.headers, ...authHeader(owner.access) } });
      expect(wrongField.statusCode).toBe(400);
      expect(wrongField.json().error.code).toBe("file_required");
      const big = await put(`/api/videos/${id}/poster/`, Buffer.concat([jpeg, Buffer.alloc(POSTER_MAX_BYTES)]), owner);
      expect(big.statusCode).toBe(413);
      expect((await put(`/api/videos/${id}/poster/`, jpeg, other)).statusCode).toBe(403);
      expect((await put(`/api/videos/${id}/poster/`, jpeg, null)).statusCode).toBe(401);
      const priv = await makeVideo({ visibility: "private" });
      expect((await put(`/api/videos/${priv}/poster/`, jpeg, other)).statusCode).toBe(404);
      expect((await mod.repo.find(id))!.custom_poster_key).toBeNull();
    });
  });

  describe("subtitles API", () => {
    const SRT = "1\n00:00:01,000 --> 00:00:02,000\nHallo\n";

    it("validates the language: BCP 47 or ISO 639-2, normalized to the short form; unknown ones refused", async () => {
      expect(parseSubtitleLanguage("de")).toBe("de");
      expect(parseSubtitleLanguage("ger")).toBe("de");
      expect(parseSubtitleLanguage("DEU")).toBe("de");
      expect(parseSubtitleLanguage("pt-BR")).toBe("pt");
      for (const bad of ["und", "xx", "e", "de_DE", "de--x", "12", "abcd"]) expect(() => parseSubtitleLanguage(bad), bad).toThrow(/language/i);
      const id = await makeVideo();
      const r = await put(`/api/videos/${id}/subtitles/klingon/`, SRT, owner);
      expect(r.statusCode).toBe(400);
      expect(r.json().error.code).toBe("invalid_language");
    });

    it("409 before conversion; 415 for non-subtitle files; 422 lists problems; 413 over 5 MB; 401/403/404 for callers", async () => {
      const pending = await makeVideo({ converted: false });
      const early = await put(`/api/videos/${pending}/subtitles/de/`, SRT, owner);
      expect(early.statusCode).toBe(409);
      expect(early.json().error.code).toBe("not_converted");
      expect((await h.app.inject({ method: "DELETE", url: `/api/videos/${pending}/subtitles/de/`, headers: authHeader(owner.access) })).statusCode).toBe(409);

      const id = await makeVideo();
      const png = await put(`/api/videos/${id}/subtitles/de/`, jpeg, owner, "subs.srt");
      expect(png.statusCode).toBe(415);
      expect(png.json().error.code).toBe("unsupported_subtitles");
      const ass = await put(`/api/videos/${id}/subtitles/de/`, "[Script Info]\nTitle: x\n", owner, "subs.vtt");
      expect(ass.statusCode).toBe(415);
      const invalid = await put(`/api/videos/${id}/subtitles/de/`, "1\n00:00:05,000 --> 00:00:04,000\nx\n", owner);
      expect(invalid.statusCode).toBe(422);
      expect(invalid.json().error).toMatchObject({ code: "invalid_subtitles", details: { format: "srt", problems: [{ line: 2, message: "the end time must be after the start time" }] } });
      const big = await put(`/api/videos/${id}/subtitles/de/`, SRT + " ".repeat(5 * 1024 * 1024), owner);
      expect(big.statusCode).toBe(413);
      expect((await put(`/api/videos/${id}/subtitles/de/`, SRT, null)).statusCode).toBe(401);
      expect((await put(`/api/videos/${id}/subtitles/de/`, SRT, other)).statusCode).toBe(403);
      expect((await h.app.inject({ method: "DELETE", url: `/api/videos/${id}/subtitles/de/`, headers: authHeader(other.access) })).statusCode).toBe(403);
      const missing = await h.app.inject({ method: "DELETE", url: `/api/videos/${id}/subtitles/de/`, headers: authHeader(owner.access) });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.code).toBe("subtitles_not_found");
      const priv = await makeVideo({ visibility: "private" });
      expect((await put(`/api/videos/${priv}/subtitles/de/`, SRT, other)).statusCode).toBe(404);
      expect((await get(`/api/videos/${priv}/subtitles/`)).statusCode).toBe(404);
      expect(await h.ctx.storage.list(`${videoKeys.prefix(id)}hls/subs/`)).toEqual([]);
    });

    it("private videos: the listed URL carries the playback token and plays", async () => {
      const id = await makeVideo({ visibility: "private" });
      const up = await put(`/api/videos/${id}/subtitles/de/`, SRT, owner);
      expect(up.statusCode).toBe(201);
      const url = up.json().url as string;
      expect(url).toMatch(new RegExp(`^/api/videos/${id}/hls/subs/de/subs\\.vtt\\?token=`));
      const vtt = await get(url);
      expect(vtt.statusCode).toBe(200);
      expect(vtt.body).toBe("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n00:00:01.000 --> 00:00:02.000\nHallo\n");
      expect((await get(`/api/videos/${id}/subtitles/`, authHeader(owner.access))).json()).toEqual([{ lang: "de", name: "Deutsch", url: expect.stringContaining("token="), source: "upload" }]);
    });

    it("concurrent uploads from two processes both land (compare-and-set on the media JSON)", async () => {
      const id = await makeVideo();
      // `mod` is a second SubtitlesService on the same database, like another API instance.
      const [a, b, c] = await Promise.all([
        put(`/api/videos/${id}/subtitles/de/`, SRT, owner),
        mod.subtitles.upload(id, "es", async () => Buffer.from("WEBVTT\n\n00:01.000 --> 00:02.000\nHola\n"), { id: owner.user.id, username: owner.user.username, role: "uploader" }, "uploader"),
        put(`/api/videos/${id}/subtitles/it/`, SRT, owner),
      ]);
      expect([a.statusCode, b.created, c.statusCode]).toEqual([201, true, 201]);
      const stored = JSON.parse((await mod.repo.find(id))!.media!) as StoredMedia;
      expect(stored.uploadedSubtitles!.map((s) => s.lang).sort()).toEqual(["de", "es", "it"]);
      await mod.subtitles.writeMaster(id);
      const master = parseMaster((await h.ctx.storage.getBuffer(`${videoKeys.prefix(id)}hls/master.m3u8`)).toString("utf8"));
      expect(master.subtitles.map((s) => s.LANGUAGE).sort()).toEqual(["de", "es", "it"]);
    });

    it("results stored before segmentType/mpegtsStartPts existed: read from the playlists (fMP4 here: no X-TIMESTAMP-MAP, version 7)", async () => {
      const id = await makeVideo({ media: (vid) => media(vid, {}) });
      expect((await put(`/api/videos/${id}/subtitles/fr/`, SRT, owner)).statusCode).toBe(201);
      const p = videoKeys.prefix(id);
      expect((await h.ctx.storage.getBuffer(`${p}hls/subs/fr/subs.vtt`)).toString()).toBe("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHallo\n");
      const master = (await h.ctx.storage.getBuffer(`${p}hls/master.m3u8`)).toString();
      expect(master).toContain("#EXT-X-VERSION:7\n");
      expect(parseMaster(master).subtitles).toEqual([
        { TYPE: "SUBTITLES", "GROUP-ID": "subs", LANGUAGE: "fr", NAME: "français", DEFAULT: "NO", AUTOSELECT: "YES", URI: "subs/fr/index.m3u8" },
      ]);
      expect((await h.ctx.storage.getBuffer(`${p}hls/subs/fr/index.m3u8`)).toString()).toContain("#EXT-X-TARGETDURATION:13\n");
    });
  });
});
