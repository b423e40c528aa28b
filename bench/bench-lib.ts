/** Helpers the benches share: building the server as `npm start` runs it, ports, readiness, RSS. */
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Compiles the server as `npm start` runs it (plain node on tsc output, no tsx loader), into a
 * cache folder so the tree's dist/ is left alone. Type errors elsewhere in a tree being edited do
 * not stop the emit.
 */
export function buildServer(): string {
  const out = path.join(ROOT, "node_modules", ".cache", "vidflux-bench", "dist");
  rmSync(out, { recursive: true, force: true });
  spawnSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(ROOT, "tsconfig.build.json"), "--outDir", out, "--sourceMap", "false"], { stdio: "ignore" });
  if (!existsSync(path.join(out, "server.js"))) throw new Error("tsc produced no server.js");
  // Under node_modules/ the project's package.json is not consulted: mark the output as ESM.
  writeFileSync(path.join(out, "package.json"), '{"type":"module"}\n');
  // Non-TypeScript assets next to their modules (e.g. the common-passwords list).
  const copyAssets = (dir: string) => {
    for (const e of readdirSync(path.join(ROOT, "src", dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) copyAssets(rel);
      else if (!e.name.endsWith(".ts") && existsSync(path.join(out, dir))) copyFileSync(path.join(ROOT, "src", rel), path.join(out, rel));
    }
  };
  copyAssets("");
  // Code that finds repository folders relative to dist/ (web/dist, the built web client) finds them beside it.
  for (const name of ["web"]) {
    const link = path.join(out, "..", name);
    rmSync(link, { recursive: true, force: true });
    if (existsSync(path.join(ROOT, name))) symlinkSync(path.join(ROOT, name), link);
  }
  return path.join(out, "server.js");
}

export async function freePort(): Promise<number> {
  const srv = net.createServer().listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  return port;
}

export async function waitHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      http
        .get(url, (res) => {
          res.resume();
          resolve((res.statusCode ?? 500) < 500);
        })
        .on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function statusOf(pid: number): { rssKb: number; hwmKb: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? 0);
  return { rssKb: kb("VmRSS"), hwmKb: kb("VmHWM") };
}
