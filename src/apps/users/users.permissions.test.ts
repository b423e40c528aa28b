// The full role x endpoint matrix of the users domain: every protected route tried by an
// anonymous caller and by each role, expecting 401 / 403 / success. Expectations are written
// out here (not derived from permissions.ts) so a change to the table shows up as a failure.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import sharp from "sharp";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { ROLES, type Role } from "./permissions.js";

let h: Harness;
let png: Buffer;
beforeAll(async () => {
  h = await createHarness();
  png = await sharp({ create: { width: 32, height: 32, channels: 3, background: "#123456" } }).png().toBuffer();
  // A spare admin, so admins deleting their own account are not the last admin.
  await createUser(h, { role: "admin" });
});
afterAll(async () => {
  await h?.close();
});

type Caller = "anonymous" | Role;
const CALLERS: Caller[] = ["anonymous", ...ROLES];
const rank = (c: Caller) => (c === "anonymous" ? -1 : ROLES.indexOf(c));

interface Case {
  name: string;
  /** the least role allowed; "anonymous" for public routes */
  min: Caller;
  ok: number;
  request(actor: TestUser | null): Promise<{ statusCode: number; json(): { error?: { code: string } } }>;
}

function multipart(data: Buffer) {
  const boundary = "----matrix";
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

const auth = (actor: TestUser | null) => (actor ? authHeader(actor.access) : {});

const CASES: Case[] = [
  { name: "GET /api/users/me/", min: "guest", ok: 200, request: (a) => h.app.inject({ url: "/api/users/me/", headers: auth(a) }) },
  {
    name: "PATCH /api/users/me/",
    min: "user",
    ok: 200,
    request: (a) => h.app.inject({ method: "PATCH", url: "/api/users/me/", payload: { bio: "matrix" }, headers: auth(a) }),
  },
  {
    name: "PUT /api/users/me/avatar/",
    min: "user",
    ok: 200,
    request: (a) => {
      const m = multipart(png);
      return h.app.inject({ method: "PUT", url: "/api/users/me/avatar/", payload: m.payload, headers: { ...m.headers, ...auth(a) } });
    },
  },
  { name: "DELETE /api/users/me/avatar/", min: "user", ok: 204, request: (a) => h.app.inject({ method: "DELETE", url: "/api/users/me/avatar/", headers: auth(a) }) },
  {
    name: "POST /api/users/me/password/",
    min: "guest",
    ok: 200,
    request: (a) =>
      h.app.inject({ method: "POST", url: "/api/users/me/password/", payload: { old_password: a?.password ?? "x", new_password: "matrix-passphrase-9" }, headers: auth(a) }),
  },
  {
    name: "DELETE /api/users/me/",
    min: "guest",
    ok: 204,
    request: (a) => h.app.inject({ method: "DELETE", url: "/api/users/me/", payload: { password: a?.password ?? "x" }, headers: auth(a) }),
  },
  { name: "GET /api/users/", min: "admin", ok: 200, request: (a) => h.app.inject({ url: "/api/users/", headers: auth(a) }) },
  {
    name: "PATCH /api/users/{id}/",
    min: "admin",
    ok: 200,
    request: async (a) => {
      const target = await createUser(h);
      const r = await h.app.inject({ method: "PATCH", url: `/api/users/${target.user.id}/`, payload: { role: "uploader" }, headers: auth(a) });
      const row = await h.ctx.db.selectFrom("users").select("role").where("id", "=", target.user.id).executeTakeFirstOrThrow();
      // a refused request changed nothing
      expect(row.role).toBe(r.statusCode === 200 ? "uploader" : "user");
      return r;
    },
  },
  {
    name: "GET /api/users/{id}/",
    min: "anonymous",
    ok: 200,
    request: async (a) => h.app.inject({ url: `/api/users/${(await createUser(h)).user.id}/`, headers: auth(a) }),
  },
];

describe.each(CASES)("$name", (c) => {
  it.each(CALLERS)("as %s", async (caller) => {
    const actor = caller === "anonymous" ? null : await createUser(h, { role: caller });
    const r = await c.request(actor);
    if (rank(caller) >= rank(c.min)) {
      expect(r.statusCode).toBe(c.ok);
    } else if (caller === "anonymous") {
      expect(r.statusCode).toBe(401);
      expect(r.json().error!.code).toBe("not_authenticated");
    } else {
      expect(r.statusCode).toBe(403);
      expect(r.json().error!.code).toBe("permission_denied");
    }
  });
});
