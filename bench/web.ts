/**
 * `npm run bench -- web`: the built web client's size (gzip), the app against its goal, and
 * hls.js beside it. Builds web/dist first when web/ changed (as `npm start` does).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { ROOT } from "./bench-lib.js";
import { APP_GZIP_GOAL, kb, measureWebBundle } from "./web-size.js";

spawnSync(process.execPath, [path.join(ROOT, "scripts", "ensure-build.mjs"), "--web-only"], { stdio: "inherit" });
const m = measureWebBundle();
console.log("file | raw | gzip");
for (const f of m.files) console.log(`${f.name} | ${kb(f.raw)} | ${kb(f.gzip)}`);
console.log(`\napp without hls.js: ${kb(m.app.gzip)} gzipped (${kb(m.app.raw)} raw), goal < ${kb(APP_GZIP_GOAL)}: ${m.app.gzip < APP_GZIP_GOAL ? "PASS" : "FAIL"}`);
console.log(`hls.js chunk: ${kb(m.hls.gzip)} gzipped (${kb(m.hls.raw)} raw), loaded by the player only`);
process.exit(m.app.gzip < APP_GZIP_GOAL ? 0 : 1);
