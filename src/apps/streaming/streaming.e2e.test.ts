/**
 * End to end: headless Chromium (Debian's, driven by playwright-core) plays a private video's HLS
 * master with hls.js from a page on another origin. Checks CORS, the token rewriting (no custom
 * headers), that playback advances, that both audio languages and the subtitles are listed, and
 * that a level switch keeps playing.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { createUser } from "../../test/users.fixtures.js";
import { newId } from "../../lib/ids.js";
import { buildFixture, insertReadyVideo, storeFixture } from "./streaming.fixtures.js";

const CHROMIUM = "/usr/bin/chromium";
const HLS_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../node_modules/hls.js/dist/hls.min.js");
const available = existsSync(CHROMIUM) && existsSync(HLS_JS);
if (!available) console.warn(`[vidflux] skipped: hls.js browser test (needs ${CHROMIUM} and hls.js)`);

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><script src="/hls.min.js"></script></head>
<body><video id="v" muted playsinline></video>
<script>
  window.state = { errors: [], levelSwitched: null };
  window.start = (src) => {
    const video = document.getElementById("v");
    const hls = new Hls({ enableWorker: true });
    window.hls = hls;
    hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) window.state.errors.push(d.type + ":" + d.details); });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_e, d) => { window.state.levelSwitched = d.level; });
    hls.on(Hls.Events.MANIFEST_PARSED, () => video.play());
    hls.loadSource(src);
    hls.attachMedia(video);
  };
</script></body></html>`;

describe.skipIf(!available)("hls.js in Chromium, cross-origin, private video", () => {
  let h: Harness;
  let page: http.Server;
  let pageOrigin = "";
  let apiOrigin = "";
  let browser: Browser;
  let fixtureDir = "";
  let videoId = "";

  beforeAll(async () => {
    const hlsJs = await readFile(HLS_JS);
    page = http.createServer((req, res) => {
      if (req.url === "/hls.min.js") res.writeHead(200, { "content-type": "text/javascript" }).end(hlsJs);
      else res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
    });
    await new Promise<void>((r) => page.listen(0, "127.0.0.1", r));
    pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;

    h = await createHarness({ CORS_ORIGINS: pageOrigin });
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    apiOrigin = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;

    fixtureDir = await mkdtemp(path.join(tmpdir(), "vidflux-e2e-fixture-"));
    await buildFixture(fixtureDir, { durationS: 8, segmentS: 1 });
    const owner = await createUser(h, { role: "uploader" });
    videoId = newId();
    const media = await storeFixture(h.ctx.storage, videoId, fixtureDir, { durationS: 8 });
    await insertReadyVideo(h.ctx, { id: videoId, ownerId: owner.user.id, media, visibility: "private" });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--disable-dev-shm-usage"],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await new Promise((r) => page?.close(r));
    if (fixtureDir) await rm(fixtureDir, { recursive: true, force: true });
  });

  it("plays, lists both audio languages and the subtitles, and keeps playing across a level switch", async () => {
    const token = await h.domains.streaming.playback.issue(videoId);
    const master = `${apiOrigin}/api/videos/${videoId}/hls/master.m3u8?token=${encodeURIComponent(token)}`;
    const tab = await browser.newPage();
    const failed: string[] = [];
    // hls.js aborts in-flight fragment loads when it switches level (net::ERR_ABORTED): not a
    // failure. CORS or server refusals show up as other errors.
    tab.on("requestfailed", (r) => {
      const why = r.failure()?.errorText ?? "";
      if (why !== "net::ERR_ABORTED") failed.push(`${r.url()} ${why}`);
    });
    const refused: string[] = [];
    tab.on("response", (r) => {
      if (r.status() >= 400) refused.push(`${r.status()} ${r.url()}`);
    });
    await tab.goto(`${pageOrigin}/`);
    await tab.evaluate((src) => (window as unknown as { start(s: string): void }).start(src), master);

    const currentTime = () => tab.evaluate(() => (document.getElementById("v") as HTMLVideoElement).currentTime);
    await tab.waitForFunction(() => (document.getElementById("v") as HTMLVideoElement).currentTime > 0.5, undefined, { timeout: 20_000 });

    const tracks = await tab.evaluate(() => {
      const hls = (window as unknown as { hls: { audioTracks: { lang?: string }[]; subtitleTracks: { lang?: string }[]; levels: unknown[] } }).hls;
      return { audio: hls.audioTracks.map((t) => t.lang), subs: hls.subtitleTracks.map((t) => t.lang), levels: hls.levels.length };
    });
    expect(tracks).toEqual({ audio: ["en", "fr"], subs: ["en"], levels: 2 });

    // Switch to the other rung (and the other audio language) mid-playback.
    const before = await tab.evaluate(() => {
      const w = window as unknown as { hls: { currentLevel: number; nextLevel: number; audioTrack: number } };
      const target = w.hls.currentLevel === 0 ? 1 : 0;
      w.hls.nextLevel = target;
      w.hls.audioTrack = 1;
      return target;
    });
    await tab.waitForFunction((lvl) => (window as unknown as { state: { levelSwitched: number | null } }).state.levelSwitched === lvl, before, { timeout: 20_000 });
    const t1 = await currentTime();
    await tab.waitForFunction((t) => (document.getElementById("v") as HTMLVideoElement).currentTime > t + 0.5, t1, { timeout: 20_000 });

    const state = await tab.evaluate(() => (window as unknown as { state: { errors: string[] } }).state);
    expect(state.errors).toEqual([]);
    expect(failed).toEqual([]);
    expect(refused).toEqual([]);
    await tab.close();
  }, 90_000);
});
