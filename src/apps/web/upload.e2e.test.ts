/**
 * The Upload and My videos pages in headless Chromium against a real server (embedded worker,
 * LADDER 144,240 ultrafast):
 * - a generated clip goes up through the page's tus upload on a throttled network (DevTools
 *   Network.emulateNetworkConditions), the bar moves, pause keeps the server's offset and resume
 *   continues from it, the conversion progress shows, the video ends ready with a link to it;
 * - a file that is not a video ends with the reason in words;
 * - My videos: edit the title, upload an SRT, pick a poster, delete a (failed) video;
 * - after a pause and a reload, picking the same file resumes from the stored URL's offset.
 * axe finds nothing serious on either page; no console errors or unexpected failed responses.
 */
import { statSync } from "node:fs";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeClip, srt } from "../../platform/media/media.fixtures.js";
import { HAS_CHROMIUM, axeViolations, launchChromium, pageErrors, screenshots, startWebServer, type Browser, type BrowserContext, type Page, type WebServer } from "../../test/browser.fixtures.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";

/** Upload bandwidth of the throttled page: the ~700 KB clip takes a few seconds, so there is progress to see. */
const UPLOAD_BYTES_PER_S = 160 * 1024;


describe.skipIf(!HAS_CHROMIUM)("web: Upload and My videos pages", () => {
  let server: WebServer;
  let browser: Browser;
  let dir: string;
  let owner: TestUser;
  let clip: string;
  let clipSize: number;
  /** the video uploaded by the first test, used by My videos */
  let readyId: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vidflux-upload-e2e-"));
    [server, browser] = await Promise.all([startWebServer(), launchChromium()]);
    owner = await createUser(server.h, { role: "uploader" });
    clip = await makeClip(server.h.ctx.media, path.join(dir, "holiday.mp4"), { width: 640, height: 360, durationS: 3, fps: 25, audio: [{ language: "eng" }] });
    clipSize = statSync(clip).size;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Signs in through the API from the page (cookie mode), then reloads: the app restores the session from the refresh cookie. */
  async function signIn(page: Page): Promise<void> {
    await page.goto(`${server.base}/#/`);
    const status = await page.evaluate(
      async ({ username, password }) =>
        (await fetch("/api/auth/login/", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password, cookie: true }) })).status,
      { username: owner.user.username, password: owner.password },
    );
    expect(status).toBe(200);
    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
  }

  /** A fresh context (its own cookies and localStorage); waits fail well before the test's timeout, saying what they waited for. */
  async function open(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    return { context, page };
  }

  async function throttle(context: BrowserContext, page: Page, bytesPerS: number): Promise<void> {
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerS });
  }

  /**
   * Records, in the page, every value of the upload/conversion bars and every phase text as they
   * change (a MutationObserver, so short states are not missed between polls).
   */
  async function recordProgress(page: Page): Promise<void> {
    await page.evaluate(() => {
      const w = window as unknown as { rec: { upload: number[]; conversion: number[]; phases: string[] } };
      w.rec = { upload: [], conversion: [], phases: [] };
      const look = () => {
        for (const p of document.querySelectorAll<HTMLProgressElement>("progress[aria-label]")) {
          const list = p.getAttribute("aria-label")!.startsWith("Upload of") ? w.rec.upload : p.getAttribute("aria-label")!.startsWith("Conversion of") ? w.rec.conversion : null;
          if (list && list[list.length - 1] !== p.value) list.push(p.value);
        }
        for (const el of document.querySelectorAll(".upload-item .upload-phase")) {
          const t = el.textContent ?? "";
          if (t && w.rec.phases[w.rec.phases.length - 1] !== t) w.rec.phases.push(t);
        }
      };
      new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
  }

  const recorded = (page: Page) => page.evaluate(() => (window as unknown as { rec: { upload: number[]; conversion: number[]; phases: string[] } }).rec);

  /** The tus upload URLs tus-js-client stored in this context's localStorage. */
  const storedUrls = (page: Page) =>
    page.evaluate(() =>
      Object.keys(localStorage)
        .filter((k) => k.startsWith("tus::"))
        .map((k) => (JSON.parse(localStorage.getItem(k)!) as { uploadUrl: string }).uploadUrl),
    );

  /** The server's offset of an upload (tus HEAD with the owner's token). */
  async function serverOffset(url: string): Promise<number> {
    const res = await fetch(url, { method: "HEAD", headers: { authorization: `Bearer ${owner.access}`, "tus-resumable": "1.0.0" } });
    expect(res.status).toBe(200);
    return Number(res.headers.get("upload-offset"));
  }

  /** Waits until the server's offset stops moving (the aborted PATCH's bytes are committed). */
  async function settledOffset(url: string): Promise<number> {
    let last = -1;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const now = await serverOffset(url);
      if (now > 0 && now === last) return now;
      if (Date.now() > deadline) throw new Error(`offset of ${url} did not settle (last ${now})`);
      last = now;
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  const videoDetail = async (id: string) => (await server.h.app.inject({ method: "GET", url: `/api/videos/${id}/`, headers: { authorization: `Bearer ${owner.access}` } })).json<{ title: string; status: string; poster: string | null; thumbnails: { candidates: string[] }; subtitles: { lang: string; source: string }[]; failure_code: string | null }>();

  it("uploads with live progress, pauses and resumes from the server's offset, then follows the conversion to ready", async () => {
    const { context, page } = await open();
    const errors = pageErrors(page);
    await signIn(page);
    await page.getByRole("link", { name: "Upload", exact: true }).click();
    await page.getByRole("heading", { name: "Upload videos" }).waitFor();
    await throttle(context, page, UPLOAD_BYTES_PER_S);
    await recordProgress(page);
    const patchOffsets: number[] = [];
    page.on("request", (r) => {
      if (r.method() === "PATCH" && r.url().includes("/api/videos/upload/")) patchOffsets.push(Number(r.headers()["upload-offset"]));
    });

    await page.setInputFiles("#upload-files", clip);
    const item = page.getByRole("article", { name: /holiday\.mp4/ });
    await expect.poll(() => item.getByLabel("Title").inputValue()).toBe("holiday");
    await item.getByLabel("Title").fill("Uploaded through the page");
    await item.getByLabel("Visibility").selectOption("unlisted");
    await item.getByRole("button", { name: "Upload", exact: true }).click();

    await page.waitForFunction(() => (document.querySelector<HTMLProgressElement>('progress[aria-label="Upload of holiday.mp4"]')?.value ?? 0) >= 25, undefined, { timeout: 20_000 });
    expect(await item.locator(".upload-numbers").textContent()).toMatch(/MB\/s/);
    await item.getByRole("button", { name: "Pause" }).click();
    await item.getByText(/^Paused at/).waitFor();

    const [url] = await storedUrls(page);
    expect(url).toMatch(/\/api\/videos\/upload\/[0-9a-f-]{36}\/$/);
    const offset = await settledOffset(url!);
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(clipSize);
    const patchesBefore = patchOffsets.length;
    const valuesBefore = (await recorded(page)).upload.length;

    await item.getByRole("button", { name: "Resume" }).click();
    // The next PATCH starts at the server's offset: the upload continues, it does not restart.
    await expect.poll(() => patchOffsets.length, { timeout: 10_000 }).toBeGreaterThan(patchesBefore);
    expect(patchOffsets[patchesBefore]).toBe(offset);

    const watch = item.getByRole("link", { name: "Watch “Uploaded through the page”" });
    await watch.waitFor({ timeout: 45_000 });
    const rec = await recorded(page);
    // The bar moved through several values before the pause, and went on from there after it.
    const beforePause = rec.upload.slice(0, valuesBefore).filter((v) => v > 0 && v < 100);
    expect(new Set(beforePause.map((v) => Math.floor(v))).size).toBeGreaterThanOrEqual(3);
    const afterResume = rec.upload.slice(valuesBefore);
    expect(Math.min(...afterResume)).toBeGreaterThanOrEqual(Math.floor((offset * 100) / clipSize) - 1);
    expect(rec.upload.at(-1)).toBe(100);
    // The server's side showed: validation, then conversion progress.
    expect(rec.phases.join(" | ")).toMatch(/Converting|Starting the conversion|Packaging the stream|Making thumbnails|Storing the converted video/);
    expect(rec.phases.at(-1)).toBe("Ready");

    const href = await watch.getAttribute("href");
    readyId = /^#\/watch\/([0-9a-f-]{36})$/.exec(href ?? "")![1]!;
    const d = await videoDetail(readyId);
    expect(d.status).toBe("ready");
    expect(d.title).toBe("Uploaded through the page");
    // tus-js-client forgot the finished upload.
    expect(await storedUrls(page)).toEqual([]);

    expect(await axeViolations(page)).toEqual([]);
    await screenshots(page, "upload");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("ends a file that is not a video with the reason in words", async () => {
    const { context, page } = await open();
    // The refusal is the server's answer to the PATCH: expected here, and nothing else.
    const errors = pageErrors(page, { ignoreStatus: (u, s) => s === 415 && u.includes("/api/videos/upload/") });
    await signIn(page);
    await page.goto(`${server.base}/#/upload`);
    const notes = path.join(dir, "notes.txt");
    await writeFile(notes, "Shopping list\n".repeat(200));
    await page.setInputFiles("#upload-files", notes);
    const item = page.getByRole("article", { name: /notes\.txt/ });
    await item.getByRole("button", { name: "Upload", exact: true }).click();
    const alert = item.getByRole("alert");
    await alert.waitFor({ timeout: 15_000 });
    expect(await alert.textContent()).toMatch(/^This file is not a video \(it looks like text\)\.$/);
    // Refused for good: no "Try again", and tus-js-client's stored URL is dropped.
    expect(await item.getByRole("button", { name: "Try again" }).count()).toBe(0);
    await expect.poll(() => storedUrls(page)).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    expect(errors.filter((e) => !/status of 415/.test(e))).toEqual([]);
    await context.close();
  });

  it("My videos: edits the title, uploads subtitles, picks a poster and deletes a failed video", async () => {
    expect(readyId).toBeTruthy();
    const { context, page } = await open();
    const errors = pageErrors(page);
    await signIn(page);
    await page.getByRole("link", { name: "My videos" }).click();
    await page.getByRole("heading", { name: "My videos" }).waitFor();

    // The failed upload of the previous test: its reason in words, and the way to upload again.
    const failed = page.getByRole("article", { name: "notes" });
    await failed.getByText(/This file is not a video \(it looks like text\)\./).waitFor();
    expect(await failed.getByRole("link", { name: "Upload again" }).getAttribute("href")).toBe("#/upload");

    // By its heading's id: the article's name changes with the title.
    const row = page.locator("article", { has: page.locator(`[id="v-${readyId}-title"]`) });
    expect(await row.getByRole("heading").textContent()).toBe("Uploaded through the page");
    await row.getByRole("button", { name: /^Manage/ }).click();
    await row.getByLabel("Title", { exact: true }).fill("Renamed in My videos");
    await row.getByRole("button", { name: "Save details" }).click();
    await row.getByText("Saved.").waitFor();
    expect((await videoDetail(readyId)).title).toBe("Renamed in My videos");
    await page.getByRole("article", { name: "Renamed in My videos" }).waitFor();
    const renamed = row;

    const subs = path.join(dir, "holiday.en.srt");
    await writeFile(subs, srt([[0.2, 1.5, "Hello"], [1.6, 2.8, "Goodbye"]]));
    await renamed.getByLabel("Subtitle language").fill("en");
    await renamed.getByLabel("Subtitle file").setInputFiles(subs);
    await renamed.getByRole("button", { name: "Upload subtitles" }).click();
    await renamed.getByText("English subtitles uploaded.").waitFor({ timeout: 15_000 });
    await renamed.getByText("English (en), uploaded").waitFor();
    expect((await videoDetail(readyId)).subtitles).toContainEqual(expect.objectContaining({ lang: "en", source: "upload" }));

    const before = await videoDetail(readyId);
    const n = before.thumbnails.candidates.length;
    expect(n).toBeGreaterThan(1);
    const current = before.thumbnails.candidates.findIndex((c) => c === before.poster);
    const pick = (current + 1) % n;
    await renamed.getByRole("radio", { name: `Frame ${pick + 1}`, exact: true }).check();
    await renamed.getByRole("button", { name: "Use this poster" }).click();
    await renamed.getByText("Poster changed.").waitFor();
    expect((await videoDetail(readyId)).poster).toBe(before.thumbnails.candidates[pick]);
    await renamed.getByRole("radio", { name: `Frame ${pick + 1} (current)` }).waitFor();

    expect(await axeViolations(page)).toEqual([]);
    await screenshots(page, "my-videos");

    const failedId = await failed.evaluate((el) => el.getAttribute("aria-labelledby")!.replace(/^v-/, "").replace(/-title$/, ""));
    await failed.getByRole("button", { name: /^Delete/ }).click();
    await failed.getByRole("button", { name: "Delete for good" }).click();
    await page.getByText("Deleted “notes”.").waitFor();
    expect(await page.getByRole("article", { name: "notes" }).count()).toBe(0);
    expect((await server.h.app.inject({ method: "GET", url: `/api/videos/${failedId}/`, headers: { authorization: `Bearer ${owner.access}` } })).statusCode).toBe(404);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("resumes after a reload: the same file picked again continues from the stored upload's offset", async () => {
    const { context, page } = await open();
    const errors = pageErrors(page);
    await signIn(page);
    await page.goto(`${server.base}/#/upload`);
    await throttle(context, page, UPLOAD_BYTES_PER_S);
    const file = path.join(dir, "resume-me.mp4");
    await copyFile(clip, file);
    await page.setInputFiles("#upload-files", file);
    const item = page.getByRole("article", { name: /resume-me\.mp4/ });
    await item.getByRole("button", { name: "Upload", exact: true }).click();
    await page.waitForFunction(() => (document.querySelector<HTMLProgressElement>('progress[aria-label="Upload of resume-me.mp4"]')?.value ?? 0) >= 20, undefined, { timeout: 20_000 });
    await item.getByRole("button", { name: "Pause" }).click();
    await item.getByText(/^Paused at/).waitFor();
    const [url] = await storedUrls(page);
    const offset = await settledOffset(url!);
    expect(offset).toBeGreaterThan(0);

    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    // The stored upload is listed, with how far it got.
    const resumable = page.getByRole("region", { name: "Resumable uploads" });
    await resumable.getByText(/resume-me\.mp4/).waitFor();
    const percent = (offset * 100) / clipSize;
    expect(await resumable.textContent()).toContain(`${percent.toFixed(percent >= 10 ? 0 : 1)}% of`);

    await throttle(context, page, UPLOAD_BYTES_PER_S);
    await recordProgress(page);
    const requests: { method: string; offset: number | null }[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/videos/upload/")) requests.push({ method: r.method(), offset: r.headers()["upload-offset"] ? Number(r.headers()["upload-offset"]) : null });
    });
    await page.setInputFiles("#upload-files", file);
    const again = page.getByRole("article", { name: /resume-me\.mp4/ });
    await again.getByText(/^Resumable upload found/).waitFor();
    await again.getByRole("button", { name: "Resume upload" }).click();
    await again.getByRole("link", { name: /^Watch “resume-me”/ }).waitFor({ timeout: 45_000 });

    // No new upload was created; the first PATCH continued at the stored offset.
    expect(requests.filter((r) => r.method === "POST")).toEqual([]);
    expect(requests.find((r) => r.method === "PATCH")?.offset).toBe(offset);
    const rec = await recorded(page);
    expect(Math.min(...rec.upload)).toBeGreaterThanOrEqual(Math.floor((offset * 100) / clipSize) - 1);
    expect(errors).toEqual([]);
    await context.close();
  });
});
