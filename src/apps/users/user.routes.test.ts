import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deflateSync } from "node:zlib";
import sharp from "sharp";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser, emailChangeTokenFromEmail, usersServices, type TestUser } from "../../test/users.fixtures.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

type Headers = Record<string, string>;
const get = (url: string, headers: Headers = {}) => h.app.inject({ url, headers });
const send = (method: "POST" | "PATCH" | "PUT" | "DELETE", url: string, payload: unknown, headers: Headers = {}) =>
  h.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }), headers });
const userRow = (id: string) => h.ctx.db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
/** Path and query of a URL from a response (absolute or relative), for inject(). */
const local = (url: string) => {
  const u = new URL(url, "http://localhost");
  return u.pathname + u.search;
};

function multipart(data: Buffer, opts: { field?: string; filename?: string; type?: string } = {}) {
  const boundary = `----vidflux${Math.random().toString(16).slice(2)}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${opts.field ?? "file"}"; filename="${opts.filename ?? "a.png"}"\r\nContent-Type: ${opts.type ?? "application/octet-stream"}\r\n\r\n`;
  return {
    payload: Buffer.concat([Buffer.from(head), data, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
  };
}

const putAvatar = (u: TestUser, data: Buffer, opts: Parameters<typeof multipart>[1] = {}) => {
  const m = multipart(data, opts);
  return h.app.inject({ method: "PUT", url: "/api/users/me/avatar/", payload: m.payload, headers: { ...m.headers, ...authHeader(u.access) } });
};

const image = (format: "png" | "jpeg" | "gif" | "webp" | "avif", w = 400, hgt = 300) =>
  sharp({ create: { width: w, height: hgt, channels: 3, background: { r: 200, g: 30, b: 60 } } })
    .toFormat(format)
    .toBuffer();

/** A PNG whose header claims a huge canvas (a decompression bomb), with valid chunk CRCs. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(Buffer.alloc(64))), chunk("IEND", Buffer.alloc(0))]);
}

describe("GET/PATCH /api/users/me/", () => {
  it("returns the account with its quota, through the injected quota function", async () => {
    const u = await createUser(h, { displayName: "Me Myself" });
    h.domains.users.hooks.provideQuotaUsed(async (id) => (id === u.user.id ? 12_345 : 0));
    const r = await get("/api/users/me/", authHeader(u.access));
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      id: u.user.id,
      username: u.user.username,
      email: u.user.email,
      display_name: "Me Myself",
      role: "user",
      is_active: true,
      avatar: null,
      quota: { used_bytes: 12_345, limit_bytes: h.config.upload.userQuota },
    });
  });

  it("edits the profile fields, normalizing username and email", async () => {
    const u = await createUser(h);
    const r = await send(
      "PATCH",
      "/api/users/me/",
      { display_name: "  New Name ", bio: "Hello, I'm new. 🎬", email: "New.Mail@EXAMPLE.org", old_password: u.password, username: "Ｎｅｗ_Handle" },
      authHeader(u.access),
    );
    expect(r.statusCode).toBe(200);
    // The address changes once the new one confirms it (email-change.test.ts has the flow).
    expect(r.json()).toMatchObject({ display_name: "New Name", bio: "Hello, I'm new. 🎬", email: u.user.email, pending_email: "New.Mail@example.org", username: "New_Handle" });
    expect((await userRow(u.user.id))!.username_key).toBe("new_handle");
    const confirmed = await send("POST", "/api/auth/email-change/confirm/", { token: await emailChangeTokenFromEmail(h, "New.Mail@example.org") });
    expect(confirmed.statusCode).toBe(204);
    expect((await h.app.inject({ url: "/api/users/me/", headers: authHeader(u.access) })).json()).toMatchObject({ email: "New.Mail@example.org", pending_email: null });
    const noop = await send("PATCH", "/api/users/me/", {}, authHeader(u.access));
    expect(noop.statusCode).toBe(200);
    expect(noop.json().username).toBe("New_Handle");
  });

  it("refuses taken usernames/emails (409) and role or is_active (400), changing nothing", async () => {
    const a = await createUser(h);
    const b = await createUser(h);
    const taken = await send("PATCH", "/api/users/me/", { username: a.user.username.toUpperCase() }, authHeader(b.access));
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe("username_taken");
    const takenMail = await send("PATCH", "/api/users/me/", { email: a.user.email.toUpperCase(), old_password: b.password }, authHeader(b.access));
    expect(takenMail.json().error.code).toBe("email_taken");
    for (const body of [{ role: "admin" }, { is_active: false }, { display_name: "ok", role: "admin" }]) {
      const r = await send("PATCH", "/api/users/me/", body, authHeader(b.access));
      expect(r.statusCode).toBe(400);
      expect(r.json().error.code).toBe("validation_error");
    }
    const row = (await userRow(b.user.id))!;
    expect(row).toMatchObject({ role: "user", username: b.user.username, email: b.user.email, display_name: "" });
  });

  it("keeps the own-username change allowed when only its case changes", async () => {
    const u = await createUser(h, { username: "casey_case" });
    const r = await send("PATCH", "/api/users/me/", { username: "Casey_Case" }, authHeader(u.access));
    expect(r.statusCode).toBe(200);
    expect(r.json().username).toBe("Casey_Case");
  });
});

describe("avatars", () => {
  it.each(["png", "jpeg", "gif", "webp", "avif"] as const)("accepts %s, re-encodes 256/64 px WebP and serves them with cache headers", async (format) => {
    const u = await createUser(h);
    const r = await putAvatar(u, await image(format), { filename: "whatever.txt", type: "text/plain" });
    expect(r.statusCode, r.body).toBe(200);
    const avatar = r.json().avatar as Record<string, string>;
    expect(Object.keys(avatar).sort()).toEqual(["256", "64"]);
    for (const size of [256, 64]) {
      const img = await get(local(avatar[size]!));
      expect(img.statusCode).toBe(200);
      expect(img.headers["content-type"]).toBe("image/webp");
      expect(img.headers["cache-control"]).toContain("immutable");
      const meta = await sharp(img.rawPayload).metadata();
      expect(meta).toMatchObject({ format: "webp", width: size, height: size });
      const again = await get(local(avatar[size]!), { "if-none-match": img.headers.etag as string });
      expect(again.statusCode).toBe(304);
    }
    const unversioned = await get(`/api/users/${u.user.id}/avatar/64/`);
    expect(unversioned.statusCode).toBe(200);
    expect(unversioned.headers["cache-control"]).not.toContain("immutable");
    expect((await h.ctx.storage.list(`avatars/${u.user.id}/`)).length).toBe(2);
  });

  it("strips metadata (EXIF/GPS) and applies the orientation", async () => {
    const u = await createUser(h);
    const jpeg = await sharp({ create: { width: 200, height: 100, channels: 3, background: "#0a0" } })
      .jpeg()
      .withExif({ IFD0: { Make: "SpyCam", Model: "GPS-9000" } })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).exif).toBeDefined();
    const r = await putAvatar(u, jpeg);
    expect(r.statusCode).toBe(200);
    const img = await get(local(r.json().avatar["256"]));
    const meta = await sharp(img.rawPayload).metadata();
    expect(meta.exif).toBeUndefined();
    expect(img.rawPayload.includes(Buffer.from("SpyCam"))).toBe(false);
  });

  it("replaces the previous avatar and deletes its files; DELETE removes it", async () => {
    const u = await createUser(h);
    const first = (await putAvatar(u, await image("png"))).json().avatar as Record<string, string>;
    const second = (await putAvatar(u, await image("jpeg"))).json().avatar as Record<string, string>;
    expect(second["256"]).not.toBe(first["256"]);
    expect((await h.ctx.storage.list(`avatars/${u.user.id}/`)).length).toBe(2);
    // the old versioned URL now serves the current image, but never as immutable
    const old = await get(local(first["256"]!));
    expect(old.headers["cache-control"]).not.toContain("immutable");
    const del = await send("DELETE", "/api/users/me/avatar/", undefined, authHeader(u.access));
    expect(del.statusCode).toBe(204);
    expect((await get("/api/users/me/", authHeader(u.access))).json().avatar).toBeNull();
    expect(await h.ctx.storage.list(`avatars/${u.user.id}/`)).toEqual([]);
    const gone = await get(local(second["64"]!));
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe("no_avatar");
    expect((await send("DELETE", "/api/users/me/avatar/", undefined, authHeader(u.access))).statusCode).toBe(204);
  });

  it("refuses non-images by content (415), whatever their name and type", async () => {
    const u = await createUser(h);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    for (const [data, name, type] of [
      [Buffer.from("just some text, not an image"), "photo.png", "image/png"],
      [svg, "a.svg", "image/svg+xml"],
      [Buffer.from("GIF89a-but-then-nothing-valid-at-all"), "a.gif", "image/gif"],
      [Buffer.from("%PDF-1.7\n%...."), "a.jpg", "image/jpeg"],
    ] as const) {
      const r = await putAvatar(u, data, { filename: name, type });
      expect(r.statusCode, name).toBe(415);
      expect(["unsupported_image", "invalid_image"]).toContain(r.json().error.code);
    }
    expect((await userRow(u.user.id))!.avatar_key).toBeNull();
  });

  it("refuses files over 5 MB and pixel bombs (413)", async () => {
    const u = await createUser(h);
    const big = Buffer.concat([await image("png"), Buffer.alloc(5 * 1024 * 1024 + 10, 7)]);
    const r = await putAvatar(u, big);
    expect(r.statusCode).toBe(413);
    expect(r.json().error.code).toBe("file_too_large");
    const bomb = await putAvatar(u, pngHeaderOnly(30_000, 30_000));
    expect(bomb.statusCode).toBe(413);
    expect(bomb.json().error.code).toBe("image_too_large");
    expect(await h.ctx.storage.list(`avatars/${u.user.id}/`)).toEqual([]);
  });

  it("needs a multipart body with the field `file`", async () => {
    const u = await createUser(h);
    const wrongField = await putAvatar(u, await image("png"), { field: "image" });
    expect(wrongField.statusCode).toBe(400);
    expect(wrongField.json().error.code).toBe("file_required");
    const json = await send("PUT", "/api/users/me/avatar/", { file: "x" }, authHeader(u.access));
    expect(json.statusCode).toBe(415);
    const raw = await h.app.inject({ method: "PUT", url: "/api/users/me/avatar/", payload: await image("png"), headers: { "content-type": "image/png", ...authHeader(u.access) } });
    expect(raw.statusCode).toBe(415);
    expect(raw.json().error).toBeDefined();
  });

  it("answers 404 for unknown users and 400 for unknown sizes", async () => {
    const u = await createUser(h);
    expect((await get(`/api/users/${u.user.id}/avatar/256/`)).statusCode).toBe(404);
    expect((await get(`/api/users/${crypto.randomUUID()}/avatar/256/`)).statusCode).toBe(404);
    expect((await get(`/api/users/${u.user.id}/avatar/128/`)).statusCode).toBe(400);
  });
});

describe("POST /api/users/me/password/", () => {
  it("changes the password, ends every session and returns a fresh pair", async () => {
    const u = await createUser(h);
    const other = await usersServices(h).auth.issueTokens({ id: u.user.id, token_version: 0 });
    const r = await send("POST", "/api/users/me/password/", { old_password: u.password, new_password: "fresh-passphrase-77" }, authHeader(u.access));
    expect(r.statusCode).toBe(200);
    const pair = r.json();
    expect((await get("/api/users/me/", authHeader(u.access))).json().error.code).toBe("token_revoked");
    expect((await get("/api/users/me/", authHeader(pair.access))).statusCode).toBe(200);
    for (const refresh of [u.refresh, other.refresh]) {
      const old = await send("POST", "/api/auth/token/refresh/", { refresh });
      expect(old.json().error.code).toBe("token_revoked");
    }
    expect((await send("POST", "/api/auth/token/refresh/", { refresh: pair.refresh })).statusCode).toBe(200);
    expect((await send("POST", "/api/auth/login/", { username: u.user.username, password: "fresh-passphrase-77" })).statusCode).toBe(200);
  });

  it('with "cookie": true sets the new refresh token as the session cookies (not in the body), ending the old sessions', async () => {
    const u = await createUser(h);
    // A browser session in cookie mode, and a second session elsewhere.
    const login = await send("POST", "/api/auth/login/", { username: u.user.username, password: u.password, cookie: true });
    expect(login.statusCode).toBe(200);
    const oldCookie = login.cookies.find((c) => c.name === "vidflux_refresh")!;
    const oldCsrf = login.cookies.find((c) => c.name === "vidflux_csrf")!;
    const browserAccess = login.json().access as string;

    const r = await send("POST", "/api/users/me/password/", { old_password: u.password, new_password: "fresh-passphrase-78", cookie: true }, authHeader(browserAccess));
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toEqual({ access: expect.any(String), refresh: null });
    const refresh = r.cookies.find((c) => c.name === "vidflux_refresh")!;
    const csrf = r.cookies.find((c) => c.name === "vidflux_csrf")!;
    expect(refresh).toMatchObject({ path: "/api/auth/", httpOnly: true, sameSite: "Strict", maxAge: h.config.auth.refreshTtlS });
    expect(csrf).toMatchObject({ path: "/", sameSite: "Strict" });
    expect(csrf.httpOnly).toBeFalsy();
    expect(csrf.value.length).toBeGreaterThanOrEqual(32);
    expect(refresh.value).not.toBe(oldCookie.value);
    expect((await get("/api/users/me/", authHeader(body.access))).statusCode).toBe(200);

    // Every earlier session ended: access tokens, body refresh tokens and the old cookie.
    for (const access of [u.access, browserAccess]) expect((await get("/api/users/me/", authHeader(access))).json().error.code).toBe("token_revoked");
    expect((await send("POST", "/api/auth/token/refresh/", { refresh: u.refresh })).json().error.code).toBe("token_revoked");
    const oldRefresh = await h.app.inject({
      method: "POST",
      url: "/api/auth/token/refresh/",
      cookies: { vidflux_refresh: oldCookie.value, vidflux_csrf: oldCsrf.value },
      headers: { "x-csrf-token": oldCsrf.value },
    });
    expect(oldRefresh.json().error.code).toBe("token_revoked");

    // The new cookie refreshes with the new CSRF cookie repeated in the header, and only so.
    const cookies = { vidflux_refresh: refresh.value, vidflux_csrf: csrf.value };
    const noHeader = await h.app.inject({ method: "POST", url: "/api/auth/token/refresh/", cookies });
    expect([noHeader.statusCode, noHeader.json().error.code]).toEqual([403, "csrf_failed"]);
    const ok = await h.app.inject({ method: "POST", url: "/api/auth/token/refresh/", cookies, headers: { "x-csrf-token": csrf.value } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().refresh).toBeNull();
    expect((await get("/api/users/me/", authHeader(ok.json().access))).statusCode).toBe(200);
    expect(ok.cookies.find((c) => c.name === "vidflux_refresh")!.value).not.toBe(refresh.value);
  });

  it("sets no cookie without \"cookie\": true", async () => {
    const u = await createUser(h);
    const r = await send("POST", "/api/users/me/password/", { old_password: u.password, new_password: "fresh-passphrase-79", cookie: false }, authHeader(u.access));
    expect(r.statusCode).toBe(200);
    expect(r.cookies).toEqual([]);
    expect(r.json().refresh).toEqual(expect.any(String));
  });

  it("refuses a wrong old password and weak new ones, changing nothing", async () => {
    const u = await createUser(h, { username: "pw_changer" });
    const before = (await userRow(u.user.id))!.password_hash;
    const wrong = await send("POST", "/api/users/me/password/", { old_password: "nope-nope-nope", new_password: "fresh-passphrase-77" }, authHeader(u.access));
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.code).toBe("wrong_password");
    for (const [pw, code] of [
      ["short", "password_too_short"],
      ["77777777777", "password_entirely_numeric"],
      ["baseball123", "password_too_common"],
      ["pw_changer1", "password_too_similar"],
    ]) {
      const r = await send("POST", "/api/users/me/password/", { old_password: u.password, new_password: pw }, authHeader(u.access));
      expect(r.statusCode).toBe(400);
      expect(r.json().error).toMatchObject({ code, details: expect.arrayContaining([{ location: "body", field: "new_password", code, message: expect.any(String) }]) });
    }
    expect((await userRow(u.user.id))!.password_hash).toBe(before);
    expect((await get("/api/users/me/", authHeader(u.access))).statusCode).toBe(200);
  });
});

describe("DELETE /api/users/me/", () => {
  it("deactivates first, revokes tokens, removes avatar and other domains' content, then the account", async () => {
    const u = await createUser(h);
    expect((await putAvatar(u, await image("png"))).statusCode).toBe(200);
    const seen: { active: number; liveTokens: number }[] = [];
    h.domains.users.hooks.registerAccountCleanup({
      removeUserContent: async (id) => {
        if (id !== u.user.id) return;
        const row = (await userRow(id))!;
        const live = await h.ctx.db.selectFrom("refresh_tokens").select("id").where("user_id", "=", id).where("revoked_at", "is", null).execute();
        seen.push({ active: row.is_active, liveTokens: live.length });
      },
    });
    const r = await send("DELETE", "/api/users/me/", { password: u.password }, authHeader(u.access));
    expect(r.statusCode).toBe(204);
    expect(seen).toEqual([{ active: 0, liveTokens: 0 }]);
    expect(await userRow(u.user.id)).toBeUndefined();
    expect(await h.ctx.db.selectFrom("refresh_tokens").select("id").where("user_id", "=", u.user.id).execute()).toEqual([]);
    expect(await h.ctx.storage.list(`avatars/${u.user.id}/`)).toEqual([]);
    expect((await get("/api/users/me/", authHeader(u.access))).json().error.code).toBe("user_not_found");
    expect((await send("POST", "/api/auth/login/", { username: u.user.username, password: u.password })).statusCode).toBe(401);
    // the username is free again
    expect((await send("POST", "/api/auth/register/", { username: u.user.username, email: u.user.email, password: "violet-umbrella-42" })).statusCode).toBe(201);
  });

  it("refuses a wrong password, changing nothing", async () => {
    const u = await createUser(h);
    const r = await send("DELETE", "/api/users/me/", { password: "not-my-password" }, authHeader(u.access));
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe("wrong_password");
    expect((await userRow(u.user.id))!.is_active).toBe(1);
    const missing = await send("DELETE", "/api/users/me/", {}, authHeader(u.access));
    expect(missing.statusCode).toBe(400);
  });

  it("leaves the account deactivated (not half-deleted) when a content cleanup fails", async () => {
    const u = await createUser(h);
    h.domains.users.hooks.registerAccountCleanup({
      removeUserContent: async (id) => {
        if (id === u.user.id) throw new Error("object store down");
      },
    });
    const r = await send("DELETE", "/api/users/me/", { password: u.password }, authHeader(u.access));
    expect(r.statusCode).toBe(500);
    expect(r.json().error.code).toBe("internal_error");
    expect(JSON.stringify(r.json())).not.toContain("object store down");
    expect((await userRow(u.user.id))!.is_active).toBe(0);
    expect((await get("/api/users/me/", authHeader(u.access))).statusCode).toBe(401);
  });
});

describe("GET /api/users/{id}/", () => {
  it("shows a public profile without private fields, to anyone", async () => {
    const u = await createUser(h, { displayName: "Public Pat" });
    const r = await get(`/api/users/${u.user.id}/`);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      id: u.user.id,
      username: u.user.username,
      display_name: "Public Pat",
      bio: "",
      role: "user",
      avatar: null,
      date_joined: expect.any(String),
    });
  });

  it("hides deactivated and unknown accounts (404) and refuses bad ids (400)", async () => {
    const u = await createUser(h, { isActive: false });
    expect((await get(`/api/users/${u.user.id}/`)).statusCode).toBe(404);
    expect((await get(`/api/users/${crypto.randomUUID()}/`)).statusCode).toBe(404);
    expect((await get(`/api/users/not-a-uuid/`)).statusCode).toBe(400);
  });
});

describe("admin: GET /api/users/", () => {
  it("searches username, email and display name, case-insensitively, with LIKE characters taken literally", async () => {
    const admin = await createUser(h, { role: "admin" });
    const a = await createUser(h, { username: "zebra_finder" });
    const b = await createUser(h, { email: "ZEBRA.mail@example.com" });
    const c = await createUser(h, { displayName: "Mr Zébra" });
    const pct = await createUser(h, { displayName: "100% real" });
    const ids = async (q: string) => ((await get(`/api/users/?search=${encodeURIComponent(q)}&limit=100`, authHeader(admin.access))).json().results as { id: string }[]).map((r) => r.id);
    expect(new Set(await ids("ZEBRA"))).toEqual(new Set([a.user.id, b.user.id]));
    expect(await ids("mr z")).toEqual([c.user.id]);
    expect(await ids("0% r")).toEqual([pct.user.id]);
    expect(await ids("%")).toEqual([pct.user.id]);
    expect(await ids("_finder")).toEqual([a.user.id]);
    const r = await get(`/api/users/?search=zebra`, authHeader(admin.access));
    expect(r.json().results[0]).toHaveProperty("email");
    expect(r.json().results[0]).not.toHaveProperty("password_hash");
  });

  it("paginates newest first with opaque cursors, forward and back", async () => {
    const admin = await createUser(h, { role: "admin" });
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      made.push((await createUser(h, { displayName: `pagetest ${i}` })).user.id);
      await new Promise((r) => setTimeout(r, 2));
    }
    const seen: string[] = [];
    let url: string | null = `/api/users/?search=pagetest&limit=2`;
    const pages: { results: { id: string }[]; next: string | null; previous: string | null }[] = [];
    while (url) {
      const r = await get(url, authHeader(admin.access));
      expect(r.statusCode).toBe(200);
      const page = r.json();
      pages.push(page);
      seen.push(...page.results.map((x: { id: string }) => x.id));
      url = page.next ? local(page.next) : null;
    }
    expect(seen).toEqual([...made].reverse());
    expect(pages.map((p) => p.results.length)).toEqual([2, 2, 1]);
    expect(pages[0]!.previous).toBeNull();
    const back = await get(local(pages[2]!.previous!), authHeader(admin.access));
    expect(back.json().results.map((x: { id: string }) => x.id)).toEqual(pages[1]!.results.map((x) => x.id));
    expect((await get(`/api/users/?cursor=garbage`, authHeader(admin.access))).json().error.code).toBe("invalid_cursor");
    expect((await get(`/api/users/?limit=101`, authHeader(admin.access))).statusCode).toBe(400);
  });
});

describe("admin: PATCH /api/users/{id}/", () => {
  /** Makes `keep` the only active admin of the database. */
  async function onlyAdmin(keep: string) {
    await h.ctx.db.updateTable("users").set({ is_active: 0 }).where("role", "=", "admin").where("id", "!=", keep).execute();
  }

  it("changes roles; the new role applies to the target's existing token at once", async () => {
    const admin = await createUser(h, { role: "admin" });
    const u = await createUser(h);
    const r = await send("PATCH", `/api/users/${u.user.id}/`, { role: "moderator" }, authHeader(admin.access));
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ id: u.user.id, role: "moderator", is_active: true, email: u.user.email });
    expect((await get("/api/users/me/", authHeader(u.access))).json().role).toBe("moderator");
  });

  it("deactivation revokes every token; reactivation lets the user sign in again", async () => {
    const admin = await createUser(h, { role: "admin" });
    const u = await createUser(h);
    const off = await send("PATCH", `/api/users/${u.user.id}/`, { is_active: false }, authHeader(admin.access));
    expect(off.json().is_active).toBe(false);
    expect((await get("/api/users/me/", authHeader(u.access))).statusCode).toBe(401);
    expect((await send("POST", "/api/auth/token/refresh/", { refresh: u.refresh })).statusCode).toBe(401);
    const on = await send("PATCH", `/api/users/${u.user.id}/`, { is_active: true }, authHeader(admin.access));
    expect(on.json().is_active).toBe(true);
    // old tokens stay dead; a new sign-in works
    expect((await get("/api/users/me/", authHeader(u.access))).statusCode).toBe(401);
    expect((await send("POST", "/api/auth/login/", { username: u.user.username, password: u.password })).statusCode).toBe(200);
  });

  it("protects the last active admin from demotion, deactivation and self-deletion (409 last_admin)", async () => {
    const admin = await createUser(h, { role: "admin" });
    await onlyAdmin(admin.user.id);
    for (const body of [{ role: "moderator" }, { is_active: false }]) {
      const r = await send("PATCH", `/api/users/${admin.user.id}/`, body, authHeader(admin.access));
      expect(r.statusCode).toBe(409);
      expect(r.json().error.code).toBe("last_admin");
    }
    const del = await send("DELETE", "/api/users/me/", { password: admin.password }, authHeader(admin.access));
    expect(del.json().error.code).toBe("last_admin");
    expect((await userRow(admin.user.id))!).toMatchObject({ role: "admin", is_active: 1 });
    // with a second admin, demoting oneself is fine
    const second = await createUser(h, { role: "admin" });
    const ok = await send("PATCH", `/api/users/${admin.user.id}/`, { role: "user" }, authHeader(admin.access));
    expect(ok.statusCode).toBe(200);
    // and now `second` is the last one
    const last = await send("PATCH", `/api/users/${second.user.id}/`, { role: "uploader" }, authHeader(second.access));
    expect(last.json().error.code).toBe("last_admin");
  });

  it("never lets two admins demote each other at the same moment", async () => {
    const a = await createUser(h, { role: "admin" });
    await onlyAdmin(a.user.id);
    const b = await createUser(h, { role: "admin" });
    const [ra, rb] = await Promise.all([
      send("PATCH", `/api/users/${b.user.id}/`, { role: "user" }, authHeader(a.access)),
      send("PATCH", `/api/users/${a.user.id}/`, { role: "user" }, authHeader(b.access)),
    ]);
    // One wins; the other is refused: 409 last_admin, or 403 when its caller was already demoted
    // by the time its request was authenticated.
    const [first, second] = [ra.statusCode, rb.statusCode].sort();
    expect(first).toBe(200);
    expect([403, 409]).toContain(second);
    const admins = await h.ctx.db.selectFrom("users").select("id").where("role", "=", "admin").where("is_active", "=", 1).execute();
    expect(admins).toHaveLength(1);

    // The same race below the HTTP layer (both callers past authentication): the lock decides.
    const c = await createUser(h, { role: "admin" });
    const [winner] = admins;
    const svc = usersServices(h).users;
    const asActor = (u: { id: string; username: string }) => ({ id: u.id, username: u.username, role: "admin" as const });
    const results = await Promise.allSettled([
      svc.adminUpdate(asActor(c.user), winner!.id, { is_active: false }, "http://x"),
      svc.adminUpdate({ id: winner!.id, username: "w", role: "admin" }, c.user.id, { role: "moderator" }, "http://x"),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason).toMatchObject({ status: 409, code: "last_admin" });
    const left = await h.ctx.db.selectFrom("users").select("id").where("role", "=", "admin").where("is_active", "=", 1).execute();
    expect(left).toHaveLength(1);
  });

  it("refuses raising one's own role or granting a role above one's own", async () => {
    const mod = await createUser(h, { role: "moderator" });
    const u = await createUser(h);
    const svc = usersServices(h).users;
    const actor = { id: mod.user.id, username: mod.user.username, role: "moderator" as const };
    await expect(svc.adminUpdate(actor, mod.user.id, { role: "admin" }, "http://x")).rejects.toMatchObject({ status: 403, code: "cannot_raise_own_role" });
    await expect(svc.adminUpdate(actor, u.user.id, { role: "admin" }, "http://x")).rejects.toMatchObject({ status: 403, code: "role_too_high" });
    await expect(svc.adminUpdate(actor, u.user.id, { role: "uploader" }, "http://x")).resolves.toMatchObject({ role: "uploader" });
  });

  it("answers 404 for unknown ids and 400 for bad input", async () => {
    const admin = await createUser(h, { role: "admin" });
    const u = await createUser(h);
    expect((await send("PATCH", `/api/users/${crypto.randomUUID()}/`, { role: "user" }, authHeader(admin.access))).statusCode).toBe(404);
    for (const body of [{ role: "superuser" }, { is_active: "maybe" }, { email: "x@example.com" }]) {
      const r = await send("PATCH", `/api/users/${u.user.id}/`, body, authHeader(admin.access));
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await userRow(u.user.id))!.role).toBe("user");
  });
});
