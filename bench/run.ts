/**
 * `npm run bench [-- upload|transcode|serve ...]`: runs the benchmarks one after another, each in
 * its own process (so one's memory does not colour another's RSS numbers). Every bench measures
 * its baseline (dd, plain ffmpeg, nginx) in the same run and prints ratios and goals; speed goals
 * live here, never in timed tests.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ALL = ["upload", "transcode", "serve"] as const;
const here = path.dirname(fileURLToPath(import.meta.url));
const asked = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = asked.filter((a) => !(ALL as readonly string[]).includes(a));
if (unknown.length) {
  console.error(`unknown bench: ${unknown.join(", ")} (choose from ${ALL.join(", ")})`);
  process.exit(2);
}
const chosen = asked.length ? asked : [...ALL];
let failed = 0;
for (const name of chosen) {
  console.log(`\n=== bench/${name} ===`);
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(here, `${name}.ts`)], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
