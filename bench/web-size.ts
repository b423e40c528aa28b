/**
 * The web client's transfer size: every JavaScript and CSS file of the Vite build (web/dist),
 * gzipped at level 9 as a static host would, split into the app (everything the page can load:
 * the entry and every route's chunk) and hls.js (its own chunk, loaded by the player only).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { ROOT } from "./bench-lib.js";

export const WEB_DIST = path.join(ROOT, "web", "dist");
/** Issue 14's goal: the app without hls.js under 150 KB gzipped. */
export const APP_GZIP_GOAL = 150 * 1024;

export interface WebBundleSize {
  files: { name: string; raw: number; gzip: number }[];
  app: { raw: number; gzip: number };
  hls: { raw: number; gzip: number };
}

export function measureWebBundle(dist = WEB_DIST): WebBundleSize {
  const assets = path.join(dist, "assets");
  const files = readdirSync(assets)
    .filter((f) => /\.(js|css)$/.test(f))
    .map((name) => {
      const body = readFileSync(path.join(assets, name));
      return { name, raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
    })
    .sort((a, b) => b.gzip - a.gzip);
  const sum = (list: typeof files) => ({ raw: list.reduce((n, f) => n + f.raw, 0), gzip: list.reduce((n, f) => n + f.gzip, 0) });
  const isHls = (f: { name: string }) => /^hls-[\w-]+\.js$/.test(f.name);
  return { files, app: sum(files.filter((f) => !isHls(f))), hls: sum(files.filter(isHls)) };
}

export const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
