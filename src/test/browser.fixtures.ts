/**
 * Browser tests' shared parts: Debian's Chromium driven by playwright-core, a real vidflux server
 * on loopback (the harness, its embedded worker, listening), axe-core checks and screenshots at
 * phone and desktop widths under test-results/.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { composeJobHandlers } from "../composition.js";
import { createHarness, type Harness } from "./app-harness.js";

export const CHROMIUM = "/usr/bin/chromium";
export const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.warn(`[vidflux] skipped: browser suites (${CHROMIUM} is missing; .ci/run installs Debian's chromium)`);

/** The test host name a browser test may use instead of 127.0.0.1 (mapped by --host-resolver-rules). */
export const TEST_HOST = "vidflux.test";

const ROOT = path.resolve(import.meta.dirname, "../..");
export const RESULTS_DIR = path.join(ROOT, "test-results");

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--autoplay-policy=no-user-gesture-required",
      // A non-localhost name on loopback: the page must work over plain HTTP there (no
      // upgrade-insecure-requests, no HSTS), as on a LAN address.
      `--host-resolver-rules=MAP ${TEST_HOST} 127.0.0.1`,
    ],
  });
}

export interface WebServer {
  h: Harness;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** The same server under TEST_HOST: `http://vidflux.test:<port>` */
  hostBase: string;
  close(): Promise<void>;
}

/** A real server (harness env on top of the test defaults) with the embedded worker, listening on loopback. */
export async function startWebServer(env: Record<string, string> = {}, opts: { worker?: boolean } = {}): Promise<WebServer> {
  const h = await createHarness({ X264_PRESET: "ultrafast", LADDER: "144,240", HLS_SEGMENT_SECONDS: "1", MP4_RENDITIONS: "false", ...env });
  if (opts.worker !== false) await h.ctx.queue.work(composeJobHandlers({ config: h.config, storage: h.ctx.storage, media: h.ctx.media }), { concurrency: 1 });
  const base = await h.app.listen({ port: 0, host: "127.0.0.1" });
  const port = new URL(base).port;
  return { h, base, hostBase: `http://${TEST_HOST}:${port}`, close: () => h.close() };
}

/** Console errors, uncaught exceptions and failed responses (≥ 400) of a page, as they happen. */
export function pageErrors(page: Page, opts: { ignoreStatus?: (url: string, status: number) => boolean } = {}): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("response", (r) => {
    if (r.status() >= 400 && !opts.ignoreStatus?.(r.url(), r.status())) errors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  return errors;
}

let axeSource: string | null = null;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * axe-core's serious and critical violations on the page as it is now. The script is evaluated
 * over the DevTools protocol, which the page's CSP (`script-src 'self'`) does not govern.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return found.filter((v) => v.impact === "serious" || v.impact === "critical");
}

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

/** Screenshots of the page at phone and desktop widths: test-results/<name>-phone.png and -desktop.png. */
export async function screenshots(page: Page, name: string): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const before = page.viewportSize();
  for (const [label, size] of [["phone", PHONE], ["desktop", DESKTOP]] as const) {
    await page.setViewportSize(size);
    await page.waitForTimeout(100);
    await page.screenshot({ path: path.join(RESULTS_DIR, `${name}-${label}.png`), fullPage: true });
  }
  if (before) await page.setViewportSize(before);
}

/**
 * Signs a context in as `user` through the page's own form (the refresh cookie and CSRF cookie
 * then live in the context, as for a person).
 */
export async function signInThroughPage(page: Page, base: string, user: { username: string; password: string }): Promise<void> {
  await page.goto(`${base}/#/login`);
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

export type { Browser, BrowserContext, Page };
