/**
 * End to end in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core), on a
 * real conversion (watch.fixtures.ts: LADDER=144,240 ultrafast, two audio languages, English
 * subtitles, two chapters):
 * - hls.js played from a page on ANOTHER origin (CORS): time advances, both audio languages and
 *   the subtitles are listed, and a level switch keeps playing;
 * - the vidflux page itself at `/`: the catalogue's card opens the watch page, whose player
 *   (media-chrome over hls-video-element) has the rungs, languages and chapters and plays, with
 *   no console error (CSP violations are console errors).
 * The pages' features one by one are watch.e2e.test.ts's.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HAS_CHROMIUM, launchChromium, type Browser, type Page } from "../../test/browser.fixtures.js";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";
import { convertedVideo } from "./watch.fixtures.js";

const HLS_JS = createRequire(import.meta.url).resolve("hls.js/dist/hls.min.js");

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

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vidflux-e2e-"));
    player = await startPlayerOrigin();
    h = await createHarness({ CORS_ORIGINS: player.origin, LADDER: "144,240", X264_PRESET: "ultrafast", HLS_SEGMENT_SECONDS: "1", MP4_RENDITIONS: "false" });
    owner = await createUser(h, { role: "uploader" });
    [videoId, browser] = await Promise.all([convertedVideo(h, { ownerId: owner.user.id, dir }), launchChromium()]);
    base = await h.app.listen({ port: 0, host: "127.0.0.1" });
  }, 120_000);

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

  it("the vidflux page at /: the catalogue's card opens the watch page, whose player (media-chrome over hls.js) plays", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = consoleErrors(page);
    const response = await page.goto(`${base}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");

    const card = page.locator(`.card a[href="#/watch/${videoId}"]`);
    await card.waitFor();
    expect(await card.innerText()).toContain("E2E clip");
    await card.click();

    // hls-video-element's hls.js instance has the master playlist's rungs and languages.
    await page.waitForFunction(() => (document.querySelector("hls-video") as unknown as { api?: PlayerWindow["hls"] } | null)?.api?.levels.length === 2, undefined, { timeout: 20_000 });
    const tracks = await page.evaluate(() => {
      const hls = (document.querySelector("hls-video") as unknown as { api: PlayerWindow["hls"] }).api;
      return { levels: hls.levels.map((l) => l.height), audio: hls.audioTracks.map((t) => t.lang), subtitles: hls.subtitleTracks.map((t) => t.lang) };
    });
    expect([...tracks.levels].sort((a, b) => a - b)).toEqual([144, 240]);
    expect(tracks.audio).toEqual(["en", "fr"]);
    expect(tracks.subtitles).toEqual(["en"]);
    expect((await page.locator(".chapters li").allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim())).toEqual(["0:00 Start", "0:02 Second half"]);

    await page.locator("media-play-button").click();
    await page.waitForFunction(() => (document.querySelector("hls-video") as unknown as { currentTime: number }).currentTime > 1, undefined, { timeout: 15_000 });
    expect(errors).toEqual([]);
    await context.close();
  });
});
