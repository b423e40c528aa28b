import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";
import { openWs } from "../../test/ws-client.js";
import { insertPlaybackVideo, streamWsUrl } from "./playback.fixtures.js";

let h: Harness;
let owner: TestUser;
let videoId: string;

beforeAll(async () => {
  h = await createHarness();
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  owner = await createUser(h);
  videoId = await insertPlaybackVideo(h, owner.user.id);
});
afterAll(async () => h.close());

describe("playback over WebSocket", () => {
  it("keeps two devices of one user in sync", async () => {
    const a = openWs(streamWsUrl(h, videoId, { token: owner.access, device: "phone" }));
    const b = openWs(streamWsUrl(h, videoId, { token: owner.access, device: "tv" }));
    const ha = await a.next();
    const hb = await b.next();
    expect(ha).toMatchObject({ type: "state", session: { kind: "personal", device: "phone" } });
    expect(hb).toMatchObject({ type: "state", session: { kind: "personal", device: "tv" } });
    a.send({ type: "play" });
    const sb = await b.nextOf((f) => f.type === "state");
    expect(sb).toMatchObject({ type: "state", by: "phone", state: { status: "playing", playing: true } });
    a.send({ type: "seek", position: 42 });
    const sb2 = await b.nextOf((f) => f.type === "state");
    expect((sb2.state as { position: number }).position).toBeGreaterThanOrEqual(42);
    a.send({ type: "change_quality", quality: "240p" });
    const sw = await a.nextOf((f) => f.type === "switch");
    expect(sw).toMatchObject({ quality: "240p", playlist_url: `/api/videos/${videoId}/hls/240p/index.m3u8`, mp4_url: `/api/videos/${videoId}/stream/240p/` });
    a.send({ type: "change_lang", audio: "fre", subtitles: "deu" });
    const sw2 = await a.nextOf((f) => f.type === "switch");
    expect(sw2).toMatchObject({ audio: { language: "fr" }, subtitles: { lang: "de" } });
    const sb3 = await b.nextOf((f) => f.type === "state" && (f.state as { audio_lang: string }).audio_lang === "fr");
    expect(sb3.state).toMatchObject({ audio_lang: "fr", subtitle_lang: "de", quality: "240p" });
    a.send({ type: "seek", position: 1000 });
    expect(await a.nextOf((f) => f.type === "error")).toMatchObject({ error: { code: "position_out_of_range" } });
    a.send({ type: "ping", client_time: 5 });
    expect(await a.nextOf((f) => f.type === "pong")).toMatchObject({ client_time: 5, server_time: expect.any(Number) });
    await a.close();
    await b.close();
  });
});
