/**
 * A playback token is a link the owner may have shared; it dies when the owner changes the
 * video's visibility (private → unlisted → private used to leave every 6-hour link working) or
 * deletes the video: on the media routes (checked against the cached row, no query per
 * segment) and on the live playback sockets, which a visibility change re-checks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { openWs } from "../../test/ws-client.js";
import { insertPlaybackVideo, playbackMedia, streamWsUrl } from "../playback/playback.fixtures.js";

let h: Harness;
let owner: TestUser;

beforeAll(async () => {
  h = await createHarness();
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  owner = await createUser(h, { role: "uploader" });
});
afterAll(async () => {
  await h?.close();
});

/** A private ready video whose master playlist is stored (the media routes can answer 200). */
async function privateVideo(): Promise<string> {
  const id = await insertPlaybackVideo(h, owner.user.id, "private");
  await h.ctx.storage.put(playbackMedia(id).masterKey, Buffer.from("#EXTM3U\n#EXT-X-VERSION:3\n"), { contentType: "application/vnd.apple.mpegurl" });
  return id;
}

const tokenOf = async (id: string): Promise<string> => {
  const r = await h.app.inject({ url: `/api/videos/${id}/`, headers: authHeader(owner.access) });
  expect(r.statusCode).toBe(200);
  return (r.json() as { playback_token: string }).playback_token;
};
const master = (id: string, token: string) => h.app.inject({ url: `/api/videos/${id}/hls/master.m3u8?token=${encodeURIComponent(token)}` });
const setVisibility = async (id: string, visibility: string) => {
  const r = await h.app.inject({ method: "PATCH", url: `/api/videos/${id}/`, payload: { visibility }, headers: authHeader(owner.access) });
  expect(r.statusCode).toBe(200);
};

describe("playback tokens and visibility changes", () => {
  it("a visibility change revokes the tokens issued before it; the detail's new token works", async () => {
    const id = await privateVideo();
    const shared = await tokenOf(id);
    expect((await master(id, shared)).statusCode).toBe(200);

    // Setting the same visibility again changes nothing.
    await setVisibility(id, "private");
    expect((await master(id, shared)).statusCode).toBe(200);

    await setVisibility(id, "unlisted");
    await setVisibility(id, "private");
    const r = await master(id, shared);
    expect(r.statusCode).toBe(403);
    expect(r.json().error.code).toBe("playback_token_revoked");
    const mp4 = await h.app.inject({ url: `/api/videos/${id}/stream/480p/?token=${encodeURIComponent(shared)}` });
    expect(mp4.json().error.code).toBe("playback_token_revoked");

    const renewed = await tokenOf(id);
    expect((await master(id, renewed)).statusCode).toBe(200);
  });

  it("deleting the video: its tokens get 404", async () => {
    const id = await privateVideo();
    const token = await tokenOf(id);
    expect((await h.app.inject({ method: "DELETE", url: `/api/videos/${id}/`, headers: authHeader(owner.access) })).statusCode).toBe(204);
    expect((await master(id, token)).statusCode).toBe(404);
  });

  it("a playback socket opened with a token is closed when the visibility changes back to private", async () => {
    const id = await privateVideo();
    const token = await tokenOf(id);
    const c = openWs(streamWsUrl(h, id, { token, device: "tv" }));
    expect((await c.next()).type).toBe("state");
    // Unlisted: anyone with the link may watch, the socket stays.
    await setVisibility(id, "unlisted");
    await new Promise((r) => setTimeout(r, 150));
    expect(c.frames.some((f) => f.type === "error")).toBe(false);
    await setVisibility(id, "private");
    expect(await c.closed).toEqual({ code: 4403, reason: "playback_token_revoked" });
    // And the revoked token no longer opens one.
    const again = openWs(streamWsUrl(h, id, { token, device: "tv" }));
    expect(await again.closed).toEqual({ code: 4403, reason: "playback_token_revoked" });
  });
});
