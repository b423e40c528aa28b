/**
 * Every endpoint of the reactions domain for each kind of caller (anonymous, guest, user, owner,
 * moderator, admin) on public, unlisted and private videos. Anonymous → 401 where an account is
 * needed, guest → 403 where a right is, a video the caller may not see → 404.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { createUser, type TestUser } from "../../test/users.fixtures.js";
import type { Visibility } from "../videos/index.js";
import { CALLERS, VISIBILITIES, call, createCallers, insertComment, insertVideo, type Call, type Caller } from "./reactions.fixtures.js";

let h: Harness;
let accounts: Awaited<ReturnType<typeof createCallers>>;
let writer: TestUser;
const videos = {} as Record<Visibility, string>;

beforeAll(async () => {
  h = await createHarness();
  accounts = await createCallers(h);
  writer = await createUser(h, { role: "user" });
  for (const vis of VISIBILITIES) videos[vis] = await insertVideo(h, accounts.owner.user.id, { visibility: vis });
});
afterAll(async () => h?.close());

const staff = (c: Caller) => c === "owner" || c === "moderator" || c === "admin";
const sees = (c: Caller, vis: Visibility) => vis !== "private" || staff(c);
/** A route needing a right the user role has: 401 anonymous, 403 guest, 404 unseen, else `ok`. */
const needsRight = (ok: number) => (c: Caller, vis: Visibility) => (c === "anonymous" ? 401 : c === "guest" ? 403 : sees(c, vis) ? ok : 404);
/** A route any signed-in account may use. */
const needsAccount = (ok: number) => (c: Caller, vis: Visibility) => (c === "anonymous" ? 401 : sees(c, vis) ? ok : 404);
/** Read routes: anyone who may see the video. */
const reads = (c: Caller, vis: Visibility) => (sees(c, vis) ? 200 : 404);
/** Owner and staff may act on others' comments; anyone else who sees the video gets 403. */
const ownerOrStaff = (ok: number) => (c: Caller, vis: Visibility) => (c === "anonymous" ? 401 : !sees(c, vis) ? 404 : staff(c) ? ok : 403);

interface Endpoint {
  name: string;
  request(video: string, comment: string): Omit<Call, "as">;
  expected(c: Caller, vis: Visibility): number;
}

const endpoints: Endpoint[] = [
  { name: "GET comments", request: (v) => ({ method: "GET", url: `/api/videos/${v}/comments/` }), expected: reads },
  { name: "GET replies", request: (_v, c) => ({ method: "GET", url: `/api/comments/${c}/replies/` }), expected: reads },
  { name: "POST like", request: (v) => ({ method: "POST", url: `/api/videos/${v}/like/` }), expected: needsRight(200) },
  { name: "POST dislike", request: (v) => ({ method: "POST", url: `/api/videos/${v}/dislike/` }), expected: needsRight(200) },
  { name: "DELETE like", request: (v) => ({ method: "DELETE", url: `/api/videos/${v}/like/` }), expected: needsRight(200) },
  { name: "DELETE dislike", request: (v) => ({ method: "DELETE", url: `/api/videos/${v}/dislike/` }), expected: needsRight(200) },
  { name: "POST comment", request: (v) => ({ method: "POST", url: `/api/videos/${v}/comment/`, body: { text: "hello" } }), expected: needsRight(201) },
  { name: "POST comment like", request: (_v, c) => ({ method: "POST", url: `/api/comments/${c}/like/` }), expected: needsRight(200) },
  { name: "DELETE comment like", request: (_v, c) => ({ method: "DELETE", url: `/api/comments/${c}/like/` }), expected: needsRight(200) },
  // someone else's comment: only its author may edit
  { name: "PATCH comment", request: (_v, c) => ({ method: "PATCH", url: `/api/comments/${c}/`, body: { text: "edit" } }), expected: needsRight(403) },
  { name: "DELETE comment", request: (_v, c) => ({ method: "DELETE", url: `/api/comments/${c}/` }), expected: ownerOrStaff(204) },
  { name: "POST pin", request: (_v, c) => ({ method: "POST", url: `/api/comments/${c}/pin/` }), expected: ownerOrStaff(200) },
  { name: "DELETE pin", request: (_v, c) => ({ method: "DELETE", url: `/api/comments/${c}/pin/` }), expected: ownerOrStaff(200) },
  { name: "POST comment report", request: (_v, c) => ({ method: "POST", url: `/api/comments/${c}/report/`, body: { reason: "spam" } }), expected: needsAccount(201) },
  { name: "POST video report", request: (v) => ({ method: "POST", url: `/api/videos/${v}/report/`, body: { reason: "other", details: "x" } }), expected: needsAccount(201) },
];

const as = (c: Caller): TestUser | null => (c === "anonymous" ? null : accounts[c]);

describe.each(endpoints)("$name", (ep) => {
  const rows = CALLERS.flatMap((caller) => VISIBILITIES.map((vis) => ({ caller, vis })));
  it.each(rows)("$caller on a $vis video", async ({ caller, vis }) => {
    // a fresh comment by a third user for each case, so deletions do not affect the next row
    const comment = await insertComment(h, videos[vis], writer.user.id, "someone's comment");
    const r = await call(h, { ...ep.request(videos[vis], comment), as: as(caller) });
    expect(r.status, JSON.stringify(r.json)).toBe(ep.expected(caller, vis));
    if (r.status >= 400) expect(Object.keys(r.json.error ?? {}).sort()).toEqual(["code", "details", "message"]);
  });
});

describe("a video that is not playable yet", () => {
  it.each(CALLERS.filter((c) => c !== "anonymous" && c !== "guest"))("is 404 for %s", async (caller) => {
    const v = await insertVideo(h, accounts.owner.user.id, { playable: false });
    for (const req of [
      { method: "GET", url: `/api/videos/${v}/comments/` },
      { method: "POST", url: `/api/videos/${v}/like/` },
      { method: "POST", url: `/api/videos/${v}/comment/`, body: { text: "early" } },
    ] as const) {
      expect((await call(h, { ...req, as: as(caller) })).status).toBe(404);
    }
  });
});

describe("moderation endpoints", () => {
  const cases: { name: string; request: () => Omit<Call, "as">; ok: number }[] = [
    { name: "GET reports", request: () => ({ method: "GET", url: "/api/moderation/reports/" }), ok: 200 },
    { name: "GET recent comments", request: () => ({ method: "GET", url: "/api/comments/?ordering=-created" }), ok: 200 },
    { name: "POST block", request: () => ({ method: "POST", url: "/api/moderation/blocks/", body: { user_id: writer.user.id } }), ok: 201 },
    { name: "DELETE block", request: () => ({ method: "DELETE", url: `/api/moderation/blocks/${writer.user.id}/` }), ok: 204 },
  ];
  describe.each(cases)("$name", (c) => {
    it.each([...CALLERS])("%s", async (caller) => {
      const expected = caller === "anonymous" ? 401 : caller === "moderator" || caller === "admin" ? c.ok : 403;
      expect((await call(h, { ...c.request(), as: as(caller) })).status).toBe(expected);
    });
  });

  it.each([...CALLERS])("hiding a commenter from one's videos: %s", async (caller) => {
    const r = await call(h, { method: "PUT", url: `/api/users/me/hidden-commenters/${writer.user.id}/`, as: as(caller) });
    expect(r.status).toBe(caller === "anonymous" ? 401 : 204);
    if (caller !== "anonymous") await call(h, { method: "DELETE", url: `/api/users/me/hidden-commenters/${writer.user.id}/`, as: as(caller) });
  });
});
