// Settings that change the auth routes' behaviour, each on its own app (one harness per file:
// several live harnesses in one process would share the Postgres migration bookkeeping).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import sharp from "sharp";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { waitForEmail } from "../../test/users.fixtures.js";

describe("UPLOADERS_BY_DEFAULT=true, SECURE_COOKIES=true, PUBLIC_URL", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ UPLOADERS_BY_DEFAULT: "true", SECURE_COOKIES: "true", PUBLIC_URL: "https://videos.example.org/" });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("makes new accounts uploaders and marks the session cookies Secure", async () => {
    const r = await h.app.inject({
      method: "POST",
      url: "/api/auth/register/",
      payload: { username: "up1", email: "up1@example.com", password: "violet-umbrella-42", cookie: true },
    });
    expect(r.statusCode).toBe(201);
    expect(r.json().user.role).toBe("uploader");
    expect(r.cookies.map((c) => c.name).sort()).toEqual(["vidflux_csrf", "vidflux_refresh"]);
    expect(r.cookies.every((c) => c.secure === true)).toBe(true);
  });

  it("builds links from PUBLIC_URL, never from the request's Host header", async () => {
    const reg = await h.app.inject({
      method: "POST",
      url: "/api/auth/register/",
      payload: { username: "linked", email: "linked@example.com", password: "violet-umbrella-42" },
    });
    const r = await h.app.inject({ method: "POST", url: "/api/auth/password-reset/", payload: { email: "linked@example.com" }, headers: { host: "evil.example" } });
    expect(r.statusCode).toBe(202);
    const mail = await waitForEmail(h, "linked@example.com");
    // the web client's page, the token in the fragment (never sent to a server, so never logged)
    expect(mail.text).toMatch(/on this page: https:\/\/videos\.example\.org\/#\/reset\?token=[A-Za-z0-9_-]{20,}\n/);
    expect(mail.text).toContain("POST https://videos.example.org/api/auth/password-reset/confirm/");
    expect(mail.text).not.toContain("evil.example");
    const pic = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#000" } }).png().toBuffer();
    const boundary = "----b";
    const payload = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n`),
      pic,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const up = await h.app.inject({
      method: "PUT",
      url: "/api/users/me/avatar/",
      payload,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${reg.json().access}`, host: "evil.example" },
    });
    expect(up.json().avatar["64"]).toMatch(/^https:\/\/videos\.example\.org\/api\/users\/[0-9a-f-]+\/avatar\/64\/\?v=/);
  });
});
