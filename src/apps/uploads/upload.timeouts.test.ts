/**
 * Uploads and the connection timeouts: a tus PATCH legitimately takes longer than
 * HTTP_BODY_TIMEOUT (a 10 GB file over hours), so it is exempt from that total; it is bounded by
 * HTTP_UPLOAD_IDLE_TIMEOUT instead, and what arrived before the silence is kept, as for any
 * broken-off PATCH. Real sockets on loopback, timeouts of 1 s, every wait bounded.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser } from "../../test/users.fixtures.js";
import { makeMp4, tusCreate } from "./upload.fixtures.js";

let h: Harness;
let port: number;
let mp4: Buffer;
let workDir: string;
beforeAll(async () => {
  h = await createHarness({ HTTP_BODY_TIMEOUT: "1", HTTP_UPLOAD_IDLE_TIMEOUT: "1" });
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  const a = h.app.server.address();
  if (!a || typeof a === "string") throw new Error("not listening");
  port = a.port;
  workDir = mkdtempSync(path.join(tmpdir(), "vidflux-trickle-"));
  mp4 = await makeMp4(workDir);
});
afterAll(async () => {
  await h?.close();
  rmSync(workDir, { recursive: true, force: true });
});

const within = <T>(p: Promise<T>, ms: number): Promise<T | null> => Promise.race([p, new Promise<null>((r) => setTimeout(() => r(null), ms))]);

describe("a slow upload PATCH", () => {
  it("may take longer than HTTP_BODY_TIMEOUT while bytes flow, and is cut off once idle for HTTP_UPLOAD_IDLE_TIMEOUT", async () => {
    const u = await createUser(h, { role: "uploader" });
    const created = await tusCreate(h, u.access, mp4.length, { metadata: { filename: "slow.mp4" } });
    expect(created.r.statusCode).toBe(201);
    const socket = net.connect(port, "127.0.0.1");
    let got = "";
    socket.on("data", (d) => (got += d.toString("latin1")));
    socket.on("error", () => undefined);
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(
      `PATCH ${created.path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${u.access}\r\nTus-Resumable: 1.0.0\r\n` +
        `Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: ${mp4.length}\r\n\r\n`,
    );
    // 64 bytes every 300 ms for 2.4 s: more than twice the body timeout, never 1 s idle.
    let sent = 0;
    for (let i = 0; i < 8; i++) {
      socket.write(mp4.subarray(sent, sent + 64));
      sent += 64;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(socket.destroyed).toBe(false);
    expect(got).toBe("");
    // Then silence: the server gives up after about a second of it.
    const t0 = Date.now();
    const ended = await within(closed, 4000);
    const idleMs = Date.now() - t0;
    socket.destroy();
    expect(ended, "still open after 4 s of silence").not.toBeNull();
    expect(idleMs).toBeLessThan(2500);
    // What arrived is kept: the client resumes from there (committed once the handler has
    // seen the broken body end, a moment after the close).
    let offset = -1;
    for (const deadline = Date.now() + 3000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      const head = await h.app.inject({ method: "HEAD", url: created.path!, headers: { ...authHeader(u.access), "tus-resumable": "1.0.0" } });
      expect(head.statusCode).toBe(200);
      offset = Number(head.headers["upload-offset"]);
      if (offset === sent) break;
    }
    expect(offset).toBe(sent);
  });
});
