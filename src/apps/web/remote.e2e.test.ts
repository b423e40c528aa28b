/**
 * Remote control and sync in headless Chromium (web/src/player/remote-panel.tsx and the sync
 * engine behind it), against a real server with a really converted 20 s video:
 * - one user signed in on two browser profiles ("two devices"): a pause, a play and a seek on one
 *   page happen on the other; after a seek both play in step, measured by sampling each page's
 *   `currentTime` against the shared clock (performance.timeOrigin + performance.now()) every
 *   50 ms for 3 s and comparing them at common instants;
 * - a third profile where WebSockets are blocked follows over the HTTP fallback;
 * - a watch room created from the panel: its link opened by an anonymous visitor joins it and
 *   follows the creator;
 * - no serious or critical axe-core violation, phone and desktop screenshots (watch-remote), no
 *   console errors, exceptions or failed responses.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HAS_CHROMIUM, launchChromium, pageErrors, screenshots, signInThroughPage, startWebServer, type Browser, type BrowserContext, type Page, type WebServer } from "../../test/browser.fixtures.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";
import { convertedVideo } from "./watch.fixtures.js";

/** What a page's video element reports. */
interface VideoNow {
  paused: boolean;
  currentTime: number;
  seeking: boolean;
  readyState: number;
}

/** Series of [time on the shared clock (ms), currentTime (s)]. */
type Samples = [number, number][];

/** The value of a sampled series at `t`, linearly between its neighbours; null outside it. */
function at(series: Samples, t: number): number | null {
  for (let i = 1; i < series.length; i++) {
    const [t0, v0] = series[i - 1]!;
    const [t1, v1] = series[i]!;
    if (t >= t0 && t <= t1) return t1 === t0 ? v0 : v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
  }
  return null;
}

/** |a − b| at each of a's instants that b covers, s. */
function differences(a: Samples, b: Samples): number[] {
  const out: number[] = [];
  for (const [t, va] of a) {
    const vb = at(b, t);
    if (vb !== null) out.push(Math.abs(va - vb));
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

let axeSource: string | null = null;

/**
 * axe-core's serious and critical violations inside the remote panel (the fixtures' axeViolations
 * checks the whole page, whose player is not this suite's subject), evaluated over the DevTools
 * protocol as there.
 */
async function panelViolations(page: Page): Promise<{ id: string; impact: string | null; nodes: string[] }[]> {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Element, o: object): Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const r = await axe.run(document.querySelector(".remote")!, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return found.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** A WebSocket as a proxy that refuses upgrades leaves it: error, then close 1006. Counts attempts. */
function blockWebSockets(): void {
  const w = window as unknown as { WebSocket: unknown; blockedSockets: number };
  w.blockedSockets = 0;
  class BlockedWebSocket extends EventTarget {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSING = 2;
    static readonly CLOSED = 3;
    readyState = 0;
    onopen: ((e: Event) => void) | null = null;
    onmessage: ((e: MessageEvent) => void) | null = null;
    onerror: ((e: Event) => void) | null = null;
    onclose: ((e: CloseEvent) => void) | null = null;
    constructor(readonly url: string) {
      super();
      w.blockedSockets++;
      setTimeout(() => {
        this.readyState = 3;
        const err = new Event("error");
        this.onerror?.(err);
        this.dispatchEvent(err);
        const close = new CloseEvent("close", { code: 1006, reason: "", wasClean: false });
        this.onclose?.(close);
        this.dispatchEvent(close);
      }, 20);
    }
    send(): void {
      throw new DOMException("The socket is not open.", "InvalidStateError");
    }
    close(): void {}
  }
  w.WebSocket = BlockedWebSocket;
}

describe.skipIf(!HAS_CHROMIUM)("web: remote control and sync in headless Chromium", () => {
  let dir: string;
  let web: WebServer;
  let browser: Browser;
  let user: TestUser;
  let videoId: string;
  const contexts: BrowserContext[] = [];
  const errors = new Map<Page, string[]>();
  let a: Page;
  let b: Page;

  /** A fresh browser profile's page, its errors recorded. */
  async function profile(opts: { blockWs?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    if (opts.blockWs) await context.addInitScript(blockWebSockets);
    const page = await context.newPage();
    errors.set(page, pageErrors(page));
    return page;
  }

  /** Signed in (a session of its own: two profiles are two devices), on the watch page, connected. */
  async function watch(page: Page, mode: "websocket" | "http", url = `${web.base}/#/watch/${videoId}`, signIn = true): Promise<void> {
    if (signIn) await signInThroughPage(page, web.base, { username: user.user.username, password: user.password });
    await page.goto(url);
    await page
      .locator(`.remote [data-remote-mode="${mode}"]`)
      .waitFor({ timeout: 15_000 })
      .catch(async (err: unknown) => {
        // Say what the page shows instead (the panel's mode and error, or no panel at all).
        const shown = await page.locator("main").innerText().catch(() => "(no main)");
        throw new Error(`${String(err)}\n${page.url()} shows:\n${shown.slice(0, 1500)}\nerrors: ${JSON.stringify(errors.get(page))}`);
      });
    await page.waitForFunction(() => ((document.querySelector("hls-video") as unknown as { nativeEl: HTMLVideoElement } | null)?.nativeEl.readyState ?? 0) >= 1, undefined, { timeout: 15_000 });
  }

  const video = (page: Page): Promise<VideoNow> =>
    page.evaluate(() => {
      const v = (document.querySelector("hls-video") as unknown as { nativeEl: HTMLVideoElement }).nativeEl;
      return { paused: v.paused, currentTime: v.currentTime, seeking: v.seeking, readyState: v.readyState };
    });

  /** What a person does with the player's buttons (media-chrome calls the same methods). */
  const person = {
    play: (page: Page) => page.evaluate(() => void (document.querySelector("hls-video") as unknown as { nativeEl: HTMLVideoElement }).nativeEl.play()),
    pause: (page: Page) => page.evaluate(() => (document.querySelector("hls-video") as unknown as { nativeEl: HTMLVideoElement }).nativeEl.pause()),
    seek: (page: Page, t: number) =>
      page.evaluate((s) => {
        (document.querySelector("hls-video") as unknown as { nativeEl: HTMLVideoElement }).nativeEl.currentTime = s;
      }, t),
  };

  const until = (page: Page, what: "playing" | "paused", timeout = 10_000) =>
    page.waitForFunction(
      (w) => {
        const v = (document.querySelector("hls-video") as unknown as { nativeEl: HTMLVideoElement }).nativeEl;
        return w === "paused" ? v.paused : !v.paused && !v.seeking && v.readyState >= 3;
      },
      what,
      { timeout },
    );

  /** Waits for the video to be near `t` (s) and settled there. */
  const near = (page: Page, t: number, within: number, timeout = 10_000) =>
    page.waitForFunction(
      ([target, tol]) => {
        const v = (document.querySelector("hls-video") as unknown as { nativeEl: HTMLVideoElement }).nativeEl;
        return !v.seeking && Math.abs(v.currentTime - target!) <= tol!;
      },
      [t, within],
      { timeout },
    );

  /** `currentTime` against the shared clock every 50 ms for `ms`, in the page itself. */
  const sample = (page: Page, ms: number): Promise<Samples> =>
    page.evaluate(async (duration) => {
      const v = (document.querySelector("hls-video") as unknown as { nativeEl: HTMLVideoElement }).nativeEl;
      const out: [number, number][] = [];
      const end = performance.now() + duration;
      while (performance.now() < end) {
        out.push([performance.timeOrigin + performance.now(), v.currentTime]);
        await new Promise((r) => setTimeout(r, 50));
      }
      return out;
    }, ms);

  /** Both pages sampled at once; the differences at common instants, s. */
  async function measure(p: Page, q: Page, label: string): Promise<{ median: number; max: number; n: number }> {
    const [sp, sq] = await Promise.all([sample(p, 3000), sample(q, 3000)]);
    const d = differences(sp, sq);
    const r = { median: median(d), max: Math.max(...d), n: d.length };
    console.info(`[remote e2e] ${label}: median |Δ| ${(r.median * 1000).toFixed(1)} ms, max ${(r.max * 1000).toFixed(1)} ms over ${r.n} instants`);
    return r;
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vidflux-remote-e2e-"));
    [web, browser] = await Promise.all([startWebServer({ LADDER: "144" }, { worker: false }), launchChromium()]);
    user = await createUser(web.h, { role: "uploader" });
    // A 20 s clip converted for real (LADDER 144), as the worker would.
    videoId = await convertedVideo(web.h, { ownerId: user.user.id, dir, title: "Remote clip", description: "", clip: { width: 256, height: 144, durationS: 20, fps: 25, audio: [{ language: "eng" }] } });
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await web?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("pause and play on one device pause and play the other", async () => {
    [a, b] = [await profile(), await profile()];
    await watch(a, "websocket");
    await watch(b, "websocket");
    // Each sees the other among its devices.
    await a.locator(".remote-members li").nth(1).waitFor();
    expect(await b.locator(".remote-members li").count()).toBe(2);
    expect(await a.locator(".remote-members li.self").innerText()).toContain("(this device)");

    await person.play(a);
    await until(b, "playing");
    await person.pause(a);
    await until(b, "paused");
    await b.locator(".remote-live", { hasText: "Paused from Chrome on desktop" }).waitFor();
    // Paused on the same frame.
    const [pa, pb] = await Promise.all([video(a), video(b)]);
    expect(Math.abs(pa.currentTime - pb.currentTime)).toBeLessThan(0.06);
    await person.play(a);
    await until(b, "playing");
    expect((await video(a)).paused).toBe(false);
    // Nothing echoed: A heard of no change but its own, and the session counted exactly three
    // (play, pause, play) after its first state.
    expect(await a.locator(".remote-live").innerText()).toBe("");
    const res = await fetch(`${web.base}/api/stream/${videoId}/state/?device=probe`, { headers: { authorization: `Bearer ${user.access}` } });
    expect(((await res.json()) as { state: { version: number; status: string } }).state).toMatchObject({ version: 4, status: "playing" });
    expect(await panelViolations(b)).toEqual([]);
  }, 90_000);

  it("after a seek on one device both play in step (median difference under 150 ms)", async () => {
    const now = (await video(a)).currentTime;
    const target = now < 8 ? Math.round(now) + 4 : 2;
    await person.seek(a, target);
    await near(b, target + 1, 1.5);
    await Promise.all([until(a, "playing"), until(b, "playing")]);
    // The engines' first corrections (a rate bend lasts 1–2 s).
    await a.waitForTimeout(1500);
    const r = await measure(a, b, "two devices over WebSocket after a seek");
    expect(r.n).toBeGreaterThan(40);
    expect(r.median).toBeLessThan(0.15);
  }, 60_000);

  it("a device without WebSockets follows over the HTTP fallback", async () => {
    const d = await profile({ blockWs: true });
    await watch(d, "http");
    expect(await d.evaluate(() => (window as unknown as { blockedSockets: number }).blockedSockets)).toBeGreaterThanOrEqual(2);
    // The session plays: so does the new device.
    await until(d, "playing");
    await person.pause(a);
    await until(d, "paused");
    await person.seek(a, 3);
    await near(d, 3, 0.06);
    await person.play(a);
    await until(d, "playing");
    await d.waitForTimeout(2000);
    const r = await measure(a, d, "WebSocket device and HTTP fallback device");
    expect(r.median).toBeLessThan(0.15);
    expect(await d.locator(".remote-mode").innerText()).toContain("HTTP fallback");
    expect(errors.get(d)).toEqual([]);
  }, 90_000);

  it("a watch room link opened without an account joins the room and follows its creator", async () => {
    await a.getByRole("button", { name: "Create watch room" }).click();
    const link = a.getByLabel("Room link");
    await a.waitForFunction(() => (document.getElementById("remote-link") as HTMLInputElement | null)?.value.includes("room="));
    const url = await link.inputValue();
    expect(url).toMatch(new RegExp(`/#/watch/${videoId}\\?room=[A-Za-z0-9]+$`));
    // The creator's page now carries the room in its address (a reload stays in it).
    expect(a.url()).toContain("room=");

    const c = await profile();
    await watch(c, "websocket", url, false);
    await c.getByRole("heading", { name: "Watch room" }).waitFor();
    await a.getByRole("heading", { name: "People here (2)" }).waitFor();
    // The room took the creator's playback: the guest plays along.
    await until(c, "playing");
    await person.pause(a);
    await until(c, "paused");
    await c.locator(".remote-live", { hasText: `Paused from ${user.user.username} (Chrome on desktop)` }).waitFor();
    await person.seek(a, 6);
    await near(c, 6, 0.06);
    await person.play(a);
    await until(c, "playing");
    await c.waitForTimeout(2000);
    const r = await measure(a, c, "watch room creator and anonymous guest");
    expect(r.median).toBeLessThan(0.15);

    expect(await panelViolations(a)).toEqual([]);
    expect(await panelViolations(c)).toEqual([]);
    await screenshots(a, "watch-remote");
    await screenshots(c, "watch-remote-guest");
    for (const p of [a, b, c]) expect(errors.get(p)).toEqual([]);
  }, 90_000);
});
