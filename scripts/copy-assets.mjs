// tsc copies only .ts output: data files the code reads at run time (e.g. the common-password
// list) are copied into dist/ beside their modules.
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const ASSET = /\.(txt|json)$/;

function walk(rel) {
  for (const e of readdirSync(path.join(root, "src", rel), { withFileTypes: true })) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) walk(r);
    else if (ASSET.test(e.name)) {
      mkdirSync(path.join(root, "dist", rel), { recursive: true });
      copyFileSync(path.join(root, "src", r), path.join(root, "dist", r));
    }
  }
}
walk("");
