/**
 * `npm run bench [-- upload|transcode|serve|ws ...]`: runs the benchmarks one after another, each in
 * its own process (so one's memory does not colour another's RSS numbers). Every bench measures
 * its baseline (dd, plain ffmpeg, nginx, a bare ws server) in the same run and prints ratios and goals; speed goals
 * live here, never in timed tests. Each bench's output is also written to `bench/report.md`
 * (one section per bench run, with the machine and the ffmpeg in use), so a run leaves a record.
 */
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ALL = ["upload", "transcode", "serve", "ws", "web"] as const;
const here = path.dirname(fileURLToPath(import.meta.url));
const asked = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = asked.filter((a) => !(ALL as readonly string[]).includes(a));
if (unknown.length) {
  console.error(`unknown bench: ${unknown.join(", ")} (choose from ${ALL.join(", ")})`);
  process.exit(2);
}
const chosen = asked.length ? asked : [...ALL];
/** Runs one bench, its output shown live and kept for the report. */
function runBench(name: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(here, `${name}.ts`)], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      process.stdout.write(c);
      output += c.toString("utf8");
    });
    child.stderr.on("data", (c: Buffer) => {
      process.stderr.write(c);
      output += c.toString("utf8");
    });
    child.on("close", (status) => resolve({ status, output }));
  });
}

const ffmpeg = spawnSync("ffmpeg", ["-hide_banner", "-version"], { encoding: "utf8" }).stdout?.split("\n")[0] ?? "ffmpeg: not found";
const sections: string[] = [];
let failed = 0;
for (const name of chosen) {
  console.log(`\n=== bench/${name} ===`);
  const r = await runBench(name);
  if (r.status !== 0) failed++;
  sections.push(`## bench/${name} — ${r.status === 0 ? "goals met" : `exit ${r.status}`}\n\n\`\`\`\n${r.output.trim()}\n\`\`\`\n`);
}
const header =
  `# vidflux benchmark report\n\n${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"} · ` +
  `${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB · Node ${process.version} · ${ffmpeg}\n\n` +
  "Written by `npm run bench`; ratios are against baselines (dd, plain ffmpeg, nginx, a bare ws server) measured in the same run.\n\n";
writeFileSync(path.join(here, "report.md"), header + sections.join("\n"));
console.log(`\nreport: ${path.join(here, "report.md")}`);
process.exit(failed ? 1 : 0);
