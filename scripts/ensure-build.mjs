// `npm start` builds only when needed: when dist/ is missing or any source file is newer than
// the last build. Keeps a fresh clone's first start working and later starts fast.
import { existsSync, readdirSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const stamp = path.join(root, "dist", ".build-stamp");

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const srcTime = Math.max(newest(path.join(root, "src")), statSync(path.join(root, "package.json")).mtimeMs);
if (!existsSync(stamp) || statSync(stamp).mtimeMs < srcTime) {
  console.log("[vidflux] building (tsc)…");
  const r = spawnSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(root, "tsconfig.build.json")], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
  await import("./copy-assets.mjs");
  const { writeFileSync } = await import("node:fs");
  writeFileSync(stamp, new Date().toISOString());
}
