/**
 * The web client's transfer size: every JavaScript and CSS file of the Vite build (web/dist),
 * gzipped at level 9 as a static host would, split into the app (everything the page can load:
 * the entry and every route's chunk) and hls.js (its own chunk, loaded by the player only).
 */
import { readFileSync } from "node:fs";
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

/** The files of the current build: every entry and chunk in Vite's manifest, with their CSS. */
function currentFiles(dist: string): string[] {
  type Chunk = { file: string; css?: string[] };
  const manifest = JSON.parse(readFileSync(path.join(dist, ".vite", "manifest.json"), "utf8")) as Record<string, Chunk>;
  const files = new Set<string>();
  for (const c of Object.values(manifest)) for (const f of [c.file, ...(c.css ?? [])]) if (/\.(js|css)$/.test(f)) files.add(f);
  return [...files];
}

export function measureWebBundle(dist = WEB_DIST): WebBundleSize {
  const files = currentFiles(dist)
    .map((file) => {
      const body = readFileSync(path.join(dist, file));
      return { name: path.basename(file), raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
    })
    .sort((a, b) => b.gzip - a.gzip);
  const sum = (list: typeof files) => ({ raw: list.reduce((n, f) => n + f.raw, 0), gzip: list.reduce((n, f) => n + f.gzip, 0) });
  const isHls = (f: { name: string }) => /^hls-[\w-]+\.js$/.test(f.name);
  return { files, app: sum(files.filter((f) => !isHls(f))), hls: sum(files.filter(isHls)) };
}

export const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
