/**
 * Hostile subtitle uploads through the real app on a loopback port: many large cue-heavy files at
 * once must not stall the event loop (parsing runs in a worker thread; `/api/health/` is polled
 * meanwhile), the cue cap answers 413 `too_many_cues`, absurd timestamps are refused and nothing
 * is ever written in exponent notation. The video's conversion result is written directly (no
 * ffmpeg): only the subtitle path is under test. The parallel uploads come from a child process,
 * so the client's own work (undici, multipart encoding) does not run on the server's event loop.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TranscodeResult } from "../../contracts/transcode.messages.js";
import { videoKeys } from "../../contracts/media-layout.js";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";
import { ThreadedSubtitleParser } from "./subtitle-parser.js";
import { SUBTITLES_MAX_BYTES } from "./subtitles.service.js";

const MAX_CUES = 20_000;
/**
 * With the parse on the event loop the issue measured 3.3 s, and this test 15.9 s (10 × 194k cues)
 * and 1.5 s (6 × 20k cues) on a loaded 2-core machine; with it in a thread, 0.3-0.7 s and under
 * 0.1 s alone (what remains is receiving 50 MB at once), and up to ~1.7 s beside ffmpeg-heavy test
 * files (the OS, not the event loop, then delays the answers). Generous, but far from 15.9 s.
 */
const HEALTH_BOUND_MS = 2500;
const DURATION_S = 7200;
const exec = promisify(execFile);

/** Uploads one file to every `{id}` URL at once, from a child process; prints each status and body. */
const UPLOADER = `
const [base, token, lang, file, ...ids] = process.argv.slice(1);
const { readFile } = await import("node:fs/promises");
const blob = new Blob([await readFile(file)]);
const results = await Promise.all(ids.map(async (id) => {
  const form = new FormData();
  form.append("file", blob, "subs.vtt");
  const r = await fetch(base + "/api/videos/" + id + "/subtitles/" + lang + "/", { method: "PUT", body: form, headers: { authorization: "Bearer " + token } });
  return { status: r.status, json: await r.json() };
}));
process.stdout.write(JSON.stringify(results));
`;

/** `n` one-character cues, 10 ms apart, in the shortest WebVTT timing form (~27 bytes a cue). */
function cueHeavyVtt(n: number): string {
  const t = (ms: number) => {
    const m = Math.floor(ms / 60_000);
    const s = Math.floor(ms / 1000) % 60;
    return `${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}.${String(ms % 1000).padStart(3, "0")}`;
  };
  const parts = ["WEBVTT\n\n"];
  for (let i = 0; i < n; i++) parts.push(`${t(i * 10)} --> ${t(i * 10 + 5)}\nx\n\n`);
  return parts.join("");
}

const media = (id: string): TranscodeResult => {
  const p = videoKeys.prefix(id);
  return {
    masterKey: `${p}hls/master.m3u8`,
    durationS: DURATION_S,
    renditions: [
      { quality: "240p", width: 426, height: 240, bitrate: 400_000, bandwidth: 500_000, averageBandwidth: 400_000, codecs: "avc1.64001e,mp4a.40.2", fps: 25, playlistKey: `${p}hls/240p/index.m3u8`, mp4Key: null, sizeBytes: 150_000 },
    ],
    audioTracks: [],
    subtitleTracks: [],
    thumbnails: { posterKey: null, candidateKeys: [], storyboardKey: null, storyboardVttKey: null },
    segmentType: "mpegts",
    mpegtsStartPts: 126_000,
  };
};

describe("hostile subtitle uploads", () => {
  let h: Harness;
  let owner: TestUser;
  let base: string;

  async function makeVideo(): Promise<string> {
    const mod = h.domains.videos;
    const v = await mod.videos.create({ ownerId: owner.user.id, title: "Film", description: "", visibility: "public", language: "en", originalFilename: "f.mp4", sizeBytes: 1000 });
    const m = media(v.id);
    await mod.repo.update(v.id, { status: "ready", playable: 1, media: JSON.stringify(m), duration_s: DURATION_S });
    await h.ctx.storage.put(m.masterKey, "#EXTM3U\n");
    return v.id;
  }

  /** The same file to every video at once, from a child process. */
  const putAll = async (ids: string[], lang: string, body: string): Promise<Array<{ status: number; json: { error?: { code: string; details: unknown } } }>> => {
    const file = path.join(h.dataDir, `subs-${Math.random().toString(36).slice(2)}.vtt`);
    await writeFile(file, body);
    const { stdout } = await exec(process.execPath, ["--input-type=module", "-e", UPLOADER, base, owner.access, lang, file, ...ids], { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
    return JSON.parse(stdout) as Array<{ status: number; json: { error?: { code: string; details: unknown } } }>;
  };

  const put = async (id: string, lang: string, body: string) => {
    const form = new FormData();
    form.append("file", new Blob([body]), "subs.vtt");
    const r = await fetch(`${base}/api/videos/${id}/subtitles/${lang}/`, { method: "PUT", body: form, headers: { authorization: `Bearer ${owner.access}` } });
    return { status: r.status, json: (await r.json()) as { error?: { code: string; details: unknown }; url?: string } };
  };

  /** Polls /api/health/ one request after another until `until` settles; the slowest answer, ms. */
  async function maxHealthLatency(until: Promise<unknown>): Promise<{ maxMs: number; polls: number }> {
    let done = false;
    void until.finally(() => {
      done = true;
    });
    let maxMs = 0;
    let polls = 0;
    while (!done) {
      const t0 = performance.now();
      const r = await fetch(`${base}/api/health/`);
      await r.arrayBuffer();
      maxMs = Math.max(maxMs, performance.now() - t0);
      polls++;
      await new Promise((res) => setTimeout(res, 5));
    }
    return { maxMs, polls };
  }

  beforeAll(async () => {
    h = await createHarness({ SUBTITLE_MAX_CUES: String(MAX_CUES) });
    owner = await createUser(h, { role: "uploader" });
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    const addr = h.app.server.address();
    if (!addr || typeof addr === "string") throw new Error("no port");
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(async () => h?.close());

  it("ten 5 MB files of 194k cues at once: refused with too_many_cues, /api/health/ stays responsive", async () => {
    const huge = cueHeavyVtt(194_000);
    expect(Buffer.byteLength(huge)).toBeLessThanOrEqual(SUBTITLES_MAX_BYTES);
    const ids = await Promise.all(Array.from({ length: 10 }, () => makeVideo()));
    const idle = await maxHealthLatency(new Promise((r) => setTimeout(r, 300)));
    const uploads = putAll(ids, "en", huge);
    const busy = await maxHealthLatency(uploads);
    const results = await uploads;
    console.log(`[subtitles.hostile] /api/health/ max latency: idle ${idle.maxMs.toFixed(0)} ms, during 10 × 194k-cue uploads ${busy.maxMs.toFixed(0)} ms (${busy.polls} polls)`);
    for (const r of results) {
      expect(r.status).toBe(413);
      expect(r.json.error).toMatchObject({ code: "too_many_cues", details: { limit: MAX_CUES, cues: 194_000 } });
    }
    expect(busy.maxMs).toBeLessThan(HEALTH_BOUND_MS);
    // nothing was stored for a refused file
    for (const id of ids) expect(await h.ctx.storage.list(`${videoKeys.prefix(id)}hls/subs/`)).toEqual([]);
  }, 90_000);

  it("files just under the cap are accepted, in parallel, with /api/health/ responsive", async () => {
    const big = cueHeavyVtt(MAX_CUES);
    const ids = await Promise.all(Array.from({ length: 6 }, () => makeVideo()));
    const uploads = putAll(ids, "fr", big);
    const busy = await maxHealthLatency(uploads);
    console.log(`[subtitles.hostile] /api/health/ max latency during 6 × ${MAX_CUES}-cue uploads: ${busy.maxMs.toFixed(0)} ms (${busy.polls} polls)`);
    for (const r of await uploads) expect(r.status).toBe(201);
    expect(busy.maxMs).toBeLessThan(HEALTH_BOUND_MS);
    const stored = (await h.ctx.storage.getBuffer(`${videoKeys.prefix(ids[0]!)}hls/subs/fr/subs.vtt`)).toString("utf8");
    expect(stored.startsWith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n00:00:00.000 --> 00:00:00.005\nx\n")).toBe(true);
    expect(stored.match(/-->/g)).toHaveLength(MAX_CUES);
  }, 60_000);

  it("a 23-digit hour is refused (422, with its line); a cue far past the video's end too; no exponent notation anywhere", async () => {
    const id = await makeVideo();
    const absurd = "WEBVTT\n\n00:01.000 --> 00:02.000\nfine\n\n12345678901234567890123:24:36.744 --> 12345678901234567890123:24:37.000\nfar future\n";
    const r = await put(id, "en", absurd);
    expect(r.status).toBe(422);
    expect(r.json.error).toMatchObject({ code: "invalid_subtitles", details: { format: "vtt", problems: [{ line: 6, message: expect.stringMatching(/hour/) }] } });
    const srt = "1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\n999:00:00,000 --> 999:00:01,000\nfar future\n";
    const r2 = await put(id, "en", srt);
    expect(r2.status).toBe(422);
    expect(r2.json.error).toMatchObject({ code: "invalid_subtitles", details: { format: "srt", problems: [{ line: 6, message: expect.stringMatching(/after the end of the video/) }] } });
    // nothing stored, nothing listed
    expect(await h.ctx.storage.list(`${videoKeys.prefix(id)}hls/subs/`)).toEqual([]);
    // a cue shortly past the end (within the margin) is fine, and written with plain digits
    const late = `WEBVTT\n\n${"01:59:59.000"} --> 02:00:30.000\nend credits\n`;
    const ok = await put(id, "en", late);
    expect(ok.status).toBe(201);
    const stored = (await h.ctx.storage.getBuffer(`${videoKeys.prefix(id)}hls/subs/en/subs.vtt`)).toString("utf8");
    expect(stored).toContain("01:59:59.000 --> 02:00:30.000\nend credits");
    expect(stored).not.toMatch(/e\+/);
  });

  it("a full parse queue answers 503 subtitles_busy with Retry-After; a parse over its time limit 422 subtitles_too_complex", async () => {
    const busy = new ThreadedSubtitleParser({ threads: 1, maxQueue: 0 });
    const slow = new ThreadedSubtitleParser({ threads: 1, timeoutMs: 1 });
    try {
      const bytes = Buffer.from(cueHeavyVtt(50_000));
      const first = busy.parse(bytes, { maxCues: MAX_CUES });
      await expect(busy.parse(bytes, { maxCues: MAX_CUES })).rejects.toMatchObject({ status: 503, code: "subtitles_busy", details: { retry_after_s: 5 }, headers: { "retry-after": "5" } });
      expect(await first).toMatchObject({ ok: false, reason: "too_many_cues", cues: 50_000 });
      await expect(slow.parse(bytes, { maxCues: MAX_CUES })).rejects.toMatchObject({ status: 422, code: "subtitles_too_complex" });
    } finally {
      await busy.close();
      await slow.close();
    }
  });
});
