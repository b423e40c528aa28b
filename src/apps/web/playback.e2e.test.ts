/**
 * End to end in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core):
 * - a real conversion (transcode handler, ultrafast, LADDER=144,240) of a lavfi clip with two
 *   audio languages and an English subtitle stream, played with hls.js from a page on ANOTHER
 *   origin (CORS): time advances, both audio languages and the subtitles are listed, and a
 *   level switch keeps playing;
 * - the vidflux page itself at `/`: catalogue, player page with its selectors, chapters and info,
 *   no console errors (CSP violations are console errors);
 * - the page's upload form: sign in, tus upload with live status until ready, then playback.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeClip, type ClipSpec } from "../../platform/media/media.fixtures.js";
import { probe } from "../../platform/media/probe.js";
import { createTranscodeHandler } from "../../services/transcoder/index.js";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";
import { composeJobHandlers } from "../../composition.js";
import { videoKeys } from "../videos/index.js";

const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.warn(`[vidflux] skipped: web playback e2e suite (${CHROMIUM} is missing; .ci/run installs Debian's chromium)`);

const HLS_JS = createRequire(import.meta.url).resolve("hls.js/dist/hls.min.js");

const CLIP: ClipSpec = {
  width: 426,
  height: 240,
  durationS: 4,
  fps: 25,
  audio: [{ language: "eng" }, { language: "fra", frequency: 880 }],
  subtitles: [{ language: "eng", cues: [[0.2, 1.8, "Hello"], [2, 3.8, "World"]] }],
};

/** The other origin's player: hls.js on the master URL given as `?src=`, exposed as `window.hls`. */
const PLAYER_HTML = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script src="/hls.min.js"></script></head><body><video id="v" muted playsinline></video><script src="/player.js"></script></body></html>`;
const PLAYER_JS = `
const video = document.getElementById("v");
window.fatal = [];
window.switches = [];
const hls = new Hls();
window.hls = hls;
hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) window.fatal.push(d.type + ":" + d.details); });
hls.on(Hls.Events.LEVEL_SWITCHED, (_e, d) => window.switches.push(d.level));
hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch((err) => window.fatal.push("play:" + err.message)));
hls.loadSource(new URLSearchParams(location.search).get("src"));
hls.attachMedia(video);
`;

/** What the tests read of the other origin's page (hls.js's own fields). */
interface PlayerWindow {
  hls: {
    levels: { height: number }[];
    audioTracks: { lang?: string }[];
    subtitleTracks: { lang?: string }[];
    currentLevel: number;
  };
  fatal: string[];
  switches: number[];
}

async function startPlayerOrigin(): Promise<{ server: http.Server; origin: string }> {
  const hlsJs = await readFile(HLS_JS);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const body: Record<string, [string, string | Buffer]> = {
      "/player.html": ["text/html; charset=utf-8", PLAYER_HTML],
      "/player.js": ["text/javascript", PLAYER_JS],
      "/hls.min.js": ["text/javascript", hlsJs],
    };
    const hit = body[url.pathname];
    res.writeHead(hit ? 200 : 404, { "content-type": hit ? hit[0] : "text/plain" }).end(hit ? hit[1] : "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Collects console errors and uncaught exceptions of a page. */
function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  return errors;
}

describe.skipIf(!HAS_CHROMIUM)("web: HLS playback in headless Chromium", () => {
  let dir: string;
  let player: { server: http.Server; origin: string };
  let h: Harness;
  let base: string;
  let browser: Browser;
  let owner: TestUser;
  let videoId: string;

  /** The real conversion of CLIP, applied to a video row as the worker's `completed` message. */
  async function convertedVideo(): Promise<string> {
    const clip = await makeClip(h.ctx.media, path.join(dir, "clip.mp4"), CLIP);
    const probed = await probe(h.ctx.media, clip, { timeoutS: 30 });
    const mod = h.domains.videos;
    const v = await mod.videos.create({ ownerId: owner.user.id, title: "E2E clip", description: "Made by lavfi.", visibility: "public", language: "en", originalFilename: "clip.mp4", sizeBytes: probed.sizeBytes });
    const sourceKey = videoKeys.original(v.id);
    await h.ctx.storage.putFile(sourceKey, clip);
    await mod.repo.update(v.id, { status: "processing", source_key: sourceKey, probe: JSON.stringify(probed), chapters: JSON.stringify([{ title: "Start", start: 0 }, { title: "Second half", start: 2 }]) });
    const m = h.config.media;
    const transcode = createTranscodeHandler({ storage: h.ctx.storage, tools: h.ctx.media, workDir: path.join(dir, "work") });
    const result = await transcode(
      {
        videoId: v.id,
        sourceKey,
        outputPrefix: videoKeys.prefix(v.id),
        probe: probed,
        options: { ladder: m.ladder, maxFps: m.maxFps, segmentS: m.hlsSegmentS, segmentType: m.hlsSegmentType, mp4: m.mp4Renditions, preset: m.preset, mode: m.transcodeMode, timeoutS: 120, defaultLanguage: "en" },
      },
      { jobId: `transcode-${v.id}`, attempt: 1, signal: new AbortController().signal, progress: async () => undefined },
    );
    await mod.results.apply({ kind: "completed", name: "video.transcode", jobId: `transcode-${v.id}`, result });
    return v.id;
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vidflux-e2e-"));
    player = await startPlayerOrigin();
    h = await createHarness({ CORS_ORIGINS: player.origin, LADDER: "144,240", X264_PRESET: "ultrafast", HLS_SEGMENT_SECONDS: "1", MP4_RENDITIONS: "false" });
    owner = await createUser(h, { role: "uploader" });
    [videoId, browser] = await Promise.all([
      convertedVideo(),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--autoplay-policy=no-user-gesture-required"],
      }),
    ]);
    // The page's upload test needs a worker: the embedded one, as `npm start` runs it.
    await h.ctx.queue.work(composeJobHandlers({ config: h.config, storage: h.ctx.storage, media: h.ctx.media }), { concurrency: 1 });
    base = await h.app.listen({ port: 0, host: "127.0.0.1" });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await new Promise((resolve) => player?.server.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("plays the master playlist with hls.js from another origin: tracks listed, level switch keeps playing", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = consoleErrors(page);
    const master = `${base}/api/videos/${videoId}/hls/master.m3u8`;
    await page.goto(`${player.origin}/player.html?src=${encodeURIComponent(master)}`);
    await page.waitForFunction(() => document.querySelector("video")!.currentTime > 1, undefined, { timeout: 20_000 });

    const tracks = await page.evaluate(() => {
      const { hls } = window as unknown as PlayerWindow;
      return { levels: hls.levels.map((l) => l.height), audio: hls.audioTracks.map((t) => t.lang), subtitles: hls.subtitleTracks.map((t) => t.lang) };
    });
    expect([...tracks.levels].sort((a, b) => a - b)).toEqual([144, 240]);
    expect(tracks.audio).toEqual(["en", "fr"]);
    expect(tracks.subtitles).toEqual(["en"]);

    // Switch to the rung not playing now; playback must go on past the switch point.
    const { target, from } = await page.evaluate(() => {
      const { hls } = window as unknown as PlayerWindow;
      const to = hls.currentLevel === 0 ? 1 : 0;
      const at = document.querySelector("video")!.currentTime;
      hls.currentLevel = to;
      return { target: to, from: at };
    });
    await page.waitForFunction(
      ({ target: t, from: f }) => {
        const w = window as unknown as PlayerWindow;
        const video = document.querySelector("video")!;
        return w.switches.includes(t) && w.hls.currentLevel === t && video.currentTime > f + 1;
      },
      { target, from },
      { timeout: 15_000 },
    );
    expect(await page.evaluate(() => (window as unknown as PlayerWindow).fatal)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("serves the vidflux page at / and plays a video there without console errors", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = consoleErrors(page);
    const response = await page.goto(`${base}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");

    const card = page.locator(`a.card[href="#/watch/${videoId}"]`);
    await card.waitFor();
    expect(await page.locator("#nav").innerText()).toMatch(/^Videos\s+Sign in$/);
    expect(await card.textContent()).toContain("E2E clip");
    await card.click();

    const video = page.locator(".player video");
    await video.waitFor();
    const options = (sel: string) => page.locator(`select[aria-label="${sel}"] option`).allTextContents();
    await page.waitForFunction(() => document.querySelector<HTMLSelectElement>('select[aria-label="Audio language"]')!.options.length === 2, undefined, { timeout: 10_000 });
    expect(await options("Audio language")).toEqual(["English", "français"]);
    expect(await options("Subtitles")).toEqual(["Off", "English"]);
    expect((await options("Quality")).slice(1)).toEqual(["144p", "240p"]);
    expect(await page.locator(".chapters li").allTextContents()).toEqual(["0:00 Start", "0:02 Second half"]);
    expect(await page.locator(".info").textContent()).toContain("426×240");

    await video.evaluate((v: HTMLVideoElement) => void v.play());
    await page.waitForFunction(() => document.querySelector("video")!.currentTime > 1, undefined, { timeout: 15_000 });
    // Choosing a quality and French audio through the selectors keeps it playing.
    const at = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
    await page.selectOption('select[aria-label="Quality"]', { label: "144p" });
    await page.selectOption('select[aria-label="Audio language"]', { label: "français" });
    await page.waitForFunction((t) => document.querySelector("video")!.currentTime > t + 1, at, { timeout: 15_000 });
    expect(errors).toEqual([]);
    await context.close();
  });

  it("signs in, uploads with the page's tus form, follows the status to ready and plays", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = consoleErrors(page);
    const file = await makeClip(h.ctx.media, path.join(dir, "upload.mp4"), { width: 320, height: 240, durationS: 2, fps: 25, audio: [{ language: "eng" }] });

    await page.goto(`${base}/#/login`);
    const signIn = page.locator("form").first();
    await signIn.locator('input[name="username"]').fill(owner.user.username);
    await signIn.locator('input[name="password"]').fill(owner.password);
    await signIn.locator('button[type="submit"]').click();
    await page.locator('#nav a[href="#/upload"]').click();

    await page.setInputFiles('input[name="file"]', file);
    await page.fill('input[name="title"]', "Uploaded from the page");
    await page.click('form button[type="submit"]');
    // The status line goes through the pipeline's states and ends ready, with a Watch link.
    await page.waitForSelector(".status-line.ready", { timeout: 30_000 });
    expect(await page.locator(".status progress").evaluate((p: HTMLProgressElement) => p.value)).toBe(100);
    await page.locator(".status a", { hasText: "Watch" }).click();
    await page.locator(".player video").waitFor();
    expect(await page.locator("h1").textContent()).toBe("Uploaded from the page");
    await page.locator(".player video").evaluate((v: HTMLVideoElement) => void v.play());
    await page.waitForFunction(() => document.querySelector("video")!.currentTime > 0.5, undefined, { timeout: 15_000 });
    expect(errors).toEqual([]);
    await context.close();
  });
});
