/**
 * The API's Prometheus metrics, scraped from `/metrics` after real requests: request durations by
 * route pattern and status, media bytes, upload bytes, the queue's jobs by state, conversions as
 * the API applies them (encode seconds by rung, time to playable), WebSocket connections and
 * messages, the default process metrics; one registry per app; the optional bearer token.
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./test/app-harness.js";
import { authHeader, createUser, type TestUser } from "./test/users.fixtures.js";
import { openWs } from "./test/ws-client.js";
import type { ProbeResult } from "./platform/media/media.types.js";

/** The value of one series in the text format, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v) && Object.keys(have).length === Object.keys(labels).length) return Number(m[3]);
  }
  return undefined;
}

const PROBE: ProbeResult = {
  container: "mp4",
  formatName: "mov,mp4,m4a,3gp,3g2,mj2",
  durationS: 1,
  sizeBytes: 1000,
  bitRate: 8000,
  video: null,
  audio: [],
  subtitles: [],
  chapters: [],
};

describe("metrics", () => {
  let h: Harness;
  const lines: Record<string, unknown>[] = [];
  let owner: TestUser;
  let port = 0;
  const scrape = async () => {
    const r = await h.app.inject({ url: "/metrics" });
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    return r.body;
  };

  beforeAll(async () => {
    h = await createHarness({ LOG_LEVEL: "info" }, { logStream: { write: (l) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
    owner = await createUser(h, { role: "uploader" });
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    port = (h.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await h.close();
  });

  it("times requests by route pattern and status, never by raw URL", async () => {
    const missing = "5d9c7a3e-1b2f-4c6d-8e9f-0a1b2c3d4e5f";
    for (let i = 0; i < 3; i++) await h.app.inject({ url: "/api/health/live/" });
    await h.app.inject({ url: `/api/videos/${missing}/` });
    await h.app.inject({ url: "/api/definitely/not/here" });
    const text = await scrape();
    const name = "vidflux_http_request_duration_seconds_count";
    expect(sample(text, name, { method: "GET", route: "/api/health/live/", status: "200" })).toBe(3);
    expect(sample(text, name, { method: "GET", route: "/api/videos/:id/", status: "404" })).toBe(1);
    expect(sample(text, name, { method: "GET", route: "unmatched", status: "404" })).toBe(1);
    expect(text).not.toContain(missing);
    expect(text).not.toContain("/api/definitely");
    // a histogram: buckets with the same labels
    expect(sample(text, "vidflux_http_request_duration_seconds_bucket", { method: "GET", route: "/api/health/live/", status: "200", le: "+Inf" })).toBe(3);
  });

  it("carries the default process metrics: event-loop lag and memory", async () => {
    const text = await scrape();
    expect(sample(text, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(sample(text, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
  });

  it("counts media bytes served (whole files and ranges), by route", async () => {
    const v = await h.domains.videos.videos.create({ ownerId: owner.user.id, title: "bytes", description: "", visibility: "public", language: null, originalFilename: "a.mp4", sizeBytes: 1 });
    const mp4Key = `videos/${v.id}/mp4/240p.mp4`;
    await h.ctx.storage.put(mp4Key, Buffer.alloc(5000, 7), { contentType: "video/mp4" });
    const media = {
      masterKey: `videos/${v.id}/hls/master.m3u8`,
      durationS: 1,
      renditions: [{ quality: "240p", width: 426, height: 240, bitrate: 1, bandwidth: 1, averageBandwidth: 1, codecs: "avc1.42c015", fps: 25, playlistKey: `videos/${v.id}/hls/240p/index.m3u8`, mp4Key, sizeBytes: 5000 }],
      audioTracks: [],
      subtitleTracks: [],
      thumbnails: { posterKey: null, candidateKeys: [], storyboardKey: null, storyboardVttKey: null },
    };
    await h.domains.videos.repo.update(v.id, { status: "ready", playable: 1, media: JSON.stringify(media), published_at: new Date().toISOString() });
    const url = `/api/videos/${v.id}/stream/240p/`;
    const whole = await h.app.inject({ url });
    expect(whole.statusCode).toBe(200);
    const part = await h.app.inject({ url, headers: { range: "bytes=0-999" } });
    expect(part.statusCode).toBe(206);
    // HEAD sends no body
    expect((await h.app.inject({ method: "HEAD", url })).statusCode).toBe(200);
    // and over a real socket
    const real = await fetch(`http://127.0.0.1:${port}${url}`, { headers: { range: "bytes=100-2099" } });
    expect(real.status).toBe(206);
    expect((await real.arrayBuffer()).byteLength).toBe(2000);
    const text = await scrape();
    expect(sample(text, "vidflux_media_bytes_served_total", { route: "/api/videos/:id/stream/:quality/" })).toBe(8000);
    // JSON answers are not media
    expect(sample(text, "vidflux_media_bytes_served_total", { route: "/api/health/live/" })).toBeUndefined();
  });

  it("counts upload bytes received (kept) and the queue's jobs by state", async () => {
    // an MP4 `ftyp` head, so the sniffer lets the bytes in; 1,000 of 3,000 bytes sent
    const head = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom\0\0\x02\0isomiso2"), Buffer.alloc(1000 - 24, 1)]);
    const created = await h.app.inject({
      method: "POST",
      url: "/api/videos/upload/",
      headers: { "tus-resumable": "1.0.0", ...authHeader(owner.access), "upload-length": "3000" },
    });
    expect(created.statusCode).toBe(201);
    const location = new URL(created.headers.location as string, "http://x").pathname;
    const patch = await h.app.inject({
      method: "PATCH",
      url: location,
      headers: { "tus-resumable": "1.0.0", ...authHeader(owner.access), "upload-offset": "0", "content-type": "application/offset+octet-stream" },
      payload: head,
    });
    expect(patch.statusCode).toBe(204);
    let text = await scrape();
    expect(sample(text, "vidflux_upload_bytes_received_total")).toBe(1000);
    expect(sample(text, "vidflux_uploads_completed_total")).toBe(0);
    // the rest: the upload completes (and one info line says so, with the request's id)
    const rest = await h.app.inject({
      method: "PATCH",
      url: location,
      headers: { "tus-resumable": "1.0.0", ...authHeader(owner.access), "upload-offset": "1000", "content-type": "application/offset+octet-stream" },
      payload: Buffer.alloc(2000, 2),
    });
    expect(rest.statusCode).toBe(204);
    text = await scrape();
    expect(sample(text, "vidflux_upload_bytes_received_total")).toBe(3000);
    expect(sample(text, "vidflux_uploads_completed_total")).toBe(1);
    const completed = lines.filter((l) => l.msg === "upload completed");
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ level: 30, bytes: 3000, video: created.headers["video-id"], reqId: rest.headers["x-request-id"] });

    const before = sample(text, "vidflux_queue_jobs", { state: "waiting" }) ?? 0;
    const v = await h.domains.videos.videos.create({ ownerId: owner.user.id, title: "queued", description: "", visibility: "public", language: null, originalFilename: "a.mp4", sizeBytes: 1 });
    await h.domains.videos.videos.accept(v.id, PROBE, `videos/${v.id}/original`, 1000);
    text = await scrape();
    expect(sample(text, "vidflux_queue_jobs", { state: "waiting" })).toBe(before + 1);
    expect(sample(text, "vidflux_queue_jobs", { state: "active" })).toBe(0);
  });

  it("conversions as the API applies them: time to playable, encode seconds by rung, outcomes", async () => {
    const results = h.domains.videos.results;
    const job = (id: string) => `transcode-${id}`;
    const make = async (title: string) => {
      const v = await h.domains.videos.videos.create({ ownerId: owner.user.id, title, description: "", visibility: "public", language: null, originalFilename: "a.mp4", sizeBytes: 1 });
      await h.domains.videos.videos.accept(v.id, PROBE, `videos/${v.id}/original`, 1000);
      return v.id;
    };
    const ok = await make("converts");
    await new Promise((r) => setTimeout(r, 30));
    await results.apply({ kind: "active", name: "video.transcode", jobId: job(ok), attempt: 1 });
    await results.apply({ kind: "progress", name: "video.transcode", jobId: job(ok), progress: { step: "transcoding", percent: 10, eta_s: 5, playable: true } });
    await results.apply({
      kind: "completed",
      name: "video.transcode",
      jobId: job(ok),
      result: {
        masterKey: `videos/${ok}/hls/master.m3u8`,
        durationS: 1,
        renditions: [],
        audioTracks: [],
        subtitleTracks: [],
        thumbnails: { posterKey: null, candidateKeys: [], storyboardKey: null, storyboardVttKey: null },
        encodeSeconds: { "240p": 12.5, "480p": 12.5 },
      },
    });
    expect((await h.domains.videos.repo.find(ok))?.status).toBe("ready");
    const bad = await make("fails");
    await results.apply({ kind: "active", name: "video.transcode", jobId: job(bad), attempt: 1 });
    await results.apply({ kind: "failed", name: "video.transcode", jobId: job(bad), failure: { code: "timeout", message: "too slow" }, final: true });

    const text = await scrape();
    expect(sample(text, "vidflux_time_to_playable_seconds_count")).toBe(1);
    expect(sample(text, "vidflux_time_to_playable_seconds_sum")).toBeGreaterThanOrEqual(0.03);
    expect(sample(text, "vidflux_transcode_seconds_count", { rung: "240p" })).toBe(1);
    expect(sample(text, "vidflux_transcode_seconds_sum", { rung: "480p" })).toBe(12.5);
    expect(sample(text, "vidflux_transcode_seconds_bucket", { rung: "240p", le: "10" })).toBe(0);
    expect(sample(text, "vidflux_transcode_seconds_bucket", { rung: "240p", le: "30" })).toBe(1);
    expect(sample(text, "vidflux_conversions_total", { outcome: "ready" })).toBe(1);
    expect(sample(text, "vidflux_conversions_total", { outcome: "failed" })).toBe(1);
    // one info line each: started, playable (seconds since queued), finished (its duration), failed (its code)
    const of = (msg: string) => lines.filter((l) => l.msg === msg);
    expect(of("conversion started").map((l) => l.video)).toEqual([ok, bad]);
    expect(of("conversion started")[0]).toMatchObject({ level: 30, attempt: 1 });
    expect(of("conversion playable")).toEqual([expect.objectContaining({ level: 30, video: ok, since_queued_s: expect.any(Number) })]);
    expect(of("conversion finished")).toEqual([expect.objectContaining({ level: 30, video: ok, duration_s: expect.any(Number), encode_s: { "240p": 12.5, "480p": 12.5 } })]);
    expect(of("conversion failed")).toEqual([expect.objectContaining({ level: 30, video: bad, code: "timeout", duration_s: expect.any(Number) })]);
    // the same completion heard again (another API's event, a reconcile pass) is not counted twice
    await results.apply({ kind: "failed", name: "video.transcode", jobId: job(bad), failure: { code: "timeout", message: "too slow" }, final: true });
    expect(sample(await scrape(), "vidflux_conversions_total", { outcome: "failed" })).toBe(1);
    expect(of("conversion failed")).toHaveLength(1);
  });

  it("counts WebSocket connections (gauge) and messages by route and direction", async () => {
    const v = await h.domains.videos.videos.create({ ownerId: owner.user.id, title: "ws", description: "", visibility: "public", language: null, originalFilename: "a.mp4", sizeBytes: 1 });
    const route = "/ws/videos/:id/";
    const ws = openWs(`ws://127.0.0.1:${port}/ws/videos/${v.id}/?token=${owner.access}`);
    await ws.opened;
    await ws.next();
    ws.send({ type: "ping" });
    await ws.nextOf((f) => f.type === "pong");
    let text = await scrape();
    expect(sample(text, "vidflux_websocket_connections", { route })).toBe(1);
    expect(sample(text, "vidflux_websocket_messages_total", { route, direction: "in" })).toBe(1);
    expect(sample(text, "vidflux_websocket_messages_total", { route, direction: "out" })).toBe(ws.frames.length);
    await ws.close();
    await new Promise((r) => setTimeout(r, 100));
    text = await scrape();
    expect(sample(text, "vidflux_websocket_connections", { route })).toBe(0);
  });

  it("each app has its own registry: a second app starts from zero", async () => {
    const other = await createHarness();
    try {
      await other.app.inject({ url: "/api/health/live/" });
      const text = (await other.app.inject({ url: "/metrics" })).body;
      expect(sample(text, "vidflux_http_request_duration_seconds_count", { method: "GET", route: "/api/health/live/", status: "200" })).toBe(1);
      expect(sample(text, "vidflux_upload_bytes_received_total")).toBe(0);
    } finally {
      await other.close();
    }
  });
});

describe("metrics behind METRICS_TOKEN", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ METRICS_TOKEN: "scrape-me-0123456789" });
  });
  afterAll(async () => {
    await h.close();
  });

  it("answers 401 in the error format without the token or with another, 200 with it", async () => {
    for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: "Basic c2NyYXBlLW1l" }]) {
      const r = await h.app.inject({ url: "/metrics", headers });
      expect(r.statusCode).toBe(401);
      expect(r.headers["www-authenticate"]).toContain("Bearer");
      expect(r.json()).toEqual({ error: { code: "not_authenticated", message: "The metrics need the bearer token METRICS_TOKEN.", details: null } });
    }
    const r = await h.app.inject({ url: "/metrics", headers: { authorization: "Bearer scrape-me-0123456789" } });
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain("vidflux_http_request_duration_seconds");
  });
});
