/**
 * compose.yaml cannot be run here (no Docker), so what can drift is checked statically: every
 * environment variable it gives a vidflux process is one src/config.ts reads (a misspelt setting
 * is silently ignored at run time), and every command it starts is a script package.json
 * defines. The other services (PostgreSQL, Redis, MinIO, nginx) take their images' own settings.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: Record<string, unknown> | string[];
  volumes?: string[];
}

// yaml's merge option: compose resolves `<<: *anchor` the same way
const compose = parse(read("compose.yaml"), { merge: true }) as { services: Record<string, Service> };
const services = Object.entries(compose.services);
/** the processes built from this repository */
const ours = services.filter(([, s]) => s.image === "vidflux");

/** Every `(env, "NAME"` in config.ts: each reader (str, int, bool, size, url, oneOf, list…) takes env first. */
function configVariables(): Set<string> {
  const names = [...read("src/config.ts").matchAll(/\(env, "([A-Z][A-Z0-9_]*)"/g)].map((m) => m[1]!);
  return new Set(names);
}

function environmentOf(s: Service): string[] {
  if (!s.environment) return [];
  if (Array.isArray(s.environment)) return s.environment.map((e) => e.split("=")[0]!);
  return Object.keys(s.environment);
}

describe("compose.yaml", () => {
  it("runs 2 APIs, 2 workers and the one-shot migration from this repository, beside PostgreSQL, Redis, MinIO and nginx", () => {
    const commands = Object.fromEntries(ours.map(([name, s]) => [name, Array.isArray(s.command) ? s.command.join(" ") : s.command]));
    expect(commands).toEqual({
      migrate: "npm run migrate",
      "api-1": "npm run start:api",
      "api-2": "npm run start:api",
      "worker-1": "npm run start:worker",
      "worker-2": "npm run start:worker",
    });
    const images = services.filter(([, s]) => s.image !== "vidflux").map(([, s]) => (s.image ?? "").split(":")[0]);
    expect(images.sort()).toEqual(["minio/mc", "minio/minio", "nginx", "postgres", "redis"]);
    expect(compose.services.nginx!.volumes).toContain("./deploy/nginx.conf:/etc/nginx/nginx.conf:ro");
  });

  it("sets only variables src/config.ts reads", () => {
    const known = configVariables();
    // the regex finds the readers: a sanity check that it still matches config.ts's style
    expect(known.size).toBeGreaterThan(80);
    for (const name of ["DATABASE_URL", "REDIS_URL", "S3_BUCKET", "SHUTDOWN_TIMEOUT", "TRUST_PROXY", "WORKER_METRICS_PORT"]) expect(known).toContain(name);
    const unknown = ours.flatMap(([service, s]) => environmentOf(s).filter((v) => !known.has(v)).map((v) => `${service}: ${v}`));
    expect(unknown).toEqual([]);
  });

  it("starts only commands package.json defines", () => {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    for (const [service, s] of ours) {
      const argv = Array.isArray(s.command) ? s.command : (s.command ?? "").split(/\s+/);
      expect(argv.slice(0, 2), service).toEqual(["npm", "run"]);
      expect(Object.keys(scripts), `${service}: npm run ${argv[2]}`).toContain(argv[2]);
    }
  });

  it("migrates before any API or worker starts, and every API sees the upload staging volume", () => {
    for (const [service, s] of ours.filter(([name]) => name !== "migrate")) {
      expect(s.depends_on, service).toMatchObject({ migrate: { condition: "service_completed_successfully" } });
    }
    for (const name of ["api-1", "api-2"]) expect(compose.services[name]!.volumes).toContain("staging:/data/uploads");
  });
});

describe("deploy/nginx.conf", () => {
  const conf = read("deploy/nginx.conf");
  it("proxies /api, /ws with the upgrade headers and the web client, uploads unbuffered and uncapped", () => {
    for (const location of ["location /api/ {", "location /ws/ {", "location / {", "location /api/videos/upload/ {"]) expect(conf).toContain(location);
    const upload = conf.slice(conf.indexOf("location /api/videos/upload/ {"));
    expect(upload.slice(0, upload.indexOf("}"))).toMatch(/client_max_body_size 0;[\s\S]*proxy_request_buffering off;/);
    const ws = conf.slice(conf.indexOf("location /ws/ {"));
    expect(ws.slice(0, ws.indexOf("}"))).toMatch(/proxy_set_header Upgrade \$http_upgrade;[\s\S]*proxy_set_header Connection \$connection_upgrade;/);
    for (const api of ["api-1:8000", "api-2:8000"]) expect(conf).toContain(`server ${api}`);
  });
});
