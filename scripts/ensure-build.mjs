// `npm start` builds only when needed: the server (tsc → dist/) when dist/ is missing or any
// source file is newer than its last build, and the web client (Vite → web/dist/) likewise for
// web/. Keeps a fresh clone's first start working and later starts fast.
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

function newest(dir, skip = new Set()) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(e.name)) continue;
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p, skip) : statSync(p).mtimeMs);
  }
  return t;
}

const stale = (stamp, since) => !existsSync(stamp) || statSync(stamp).mtimeMs < since;
const run = (args) => {
  const r = spawnSync(process.execPath, args, { stdio: "inherit", cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const pkgTime = statSync(path.join(root, "package.json")).mtimeMs;

// `--web-only`: the test run's global setup (the browser tests need the built page, not dist/).
const webOnly = process.argv.includes("--web-only");
const serverStamp = path.join(root, "dist", ".build-stamp");
if (!webOnly && stale(serverStamp, Math.max(newest(path.join(root, "src")), pkgTime))) {
  console.log("[vidflux] building the server (tsc)…");
  run([path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(root, "tsconfig.build.json")]);
  await import("./copy-assets.mjs");
  writeFileSync(serverStamp, new Date().toISOString());
}

const webStamp = path.join(root, "web", "dist", ".build-stamp");
// The web client also compiles the API types generated from the server (src/apps/web).
const webSources = Math.max(newest(path.join(root, "web"), new Set(["dist"])), newest(path.join(root, "src", "apps", "web")), pkgTime);
if (stale(webStamp, webSources)) {
  console.log("[vidflux] building the web client (vite)…");
  run([path.join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", path.join(root, "web", "vite.config.ts"), "--logLevel", "warn"]);
  writeFileSync(webStamp, new Date().toISOString());
}
