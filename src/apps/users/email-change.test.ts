/**
 * Changing the email address, through the real API and the file email backend: it needs the
 * current password, nothing changes until the NEW address confirms with the emailed single-use
 * token, the OLD address is told (at the request and at the change), and the confirmation ends
 * every other session. A stolen access token alone can no longer move the account's address
 * (and with it every later password reset) somewhere else.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser, emailChangeTokenFromEmail, sentEmails, waitForEmail, type TestUser } from "../../test/users.fixtures.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ PUBLIC_URL: "https://videos.example.org" });
});
afterAll(async () => {
  await h?.close();
});

const me = (access: string) => h.app.inject({ url: "/api/users/me/", headers: authHeader(access) });
const patchMe = (access: string, payload: object) => h.app.inject({ method: "PATCH", url: "/api/users/me/", payload, headers: authHeader(access) });
const confirm = (token: string) => h.app.inject({ method: "POST", url: "/api/auth/email-change/confirm/", payload: { token } });
const mailsTo = async (to: string) => (await sentEmails(h)).filter((m) => (m.headers.to ?? "").includes(to));

/** The email to `to` whose subject matches (mail is sent after the response: polls for ≤ 5 s). */
async function mailWith(to: string, subject: RegExp): Promise<{ text: string }> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const m = (await mailsTo(to)).find((x) => subject.test(x.headers.subject ?? ""));
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`no email "${subject.source}" to ${to}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let n = 0;
const fresh = () => `moved${n++}-${Math.random().toString(36).slice(2, 8)}@example.net`;

async function login(u: TestUser): Promise<{ access: string; refresh: string }> {
  const r = await h.app.inject({ method: "POST", url: "/api/auth/login/", payload: { username: u.user.username, password: u.password } });
  expect(r.statusCode).toBe(200);
  return r.json() as { access: string; refresh: string };
}

describe("PATCH /api/users/me/ with a new email", () => {
  it("without the current password: 400 password_required, and nothing changes (other fields neither)", async () => {
    const u = await createUser(h);
    const to = fresh();
    const r = await patchMe(u.access, { email: to, display_name: "Changed" });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatchObject({ code: "password_required" });
    const now = (await me(u.access)).json();
    expect(now).toMatchObject({ email: u.user.email, display_name: "", pending_email: null });
    expect(await mailsTo(to)).toHaveLength(0);
  });

  it("with a wrong password: 400 wrong_password, nothing sent", async () => {
    const u = await createUser(h);
    const to = fresh();
    const r = await patchMe(u.access, { email: to, old_password: "not-my-password" });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe("wrong_password");
    expect((await me(u.access)).json().email).toBe(u.user.email);
    expect(await mailsTo(to)).toHaveLength(0);
  });

  it("an address another account uses: 409 email_taken", async () => {
    const u = await createUser(h);
    const other = await createUser(h);
    const r = await patchMe(u.access, { email: other.user.email.toUpperCase(), old_password: u.password });
    expect(r.statusCode).toBe(409);
    expect(r.json().error.code).toBe("email_taken");
  });

  it("the same address (or none) needs no password: other fields change as before", async () => {
    const u = await createUser(h);
    const r = await patchMe(u.access, { email: u.user.email, bio: "hello" });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ email: u.user.email, bio: "hello", pending_email: null });
  });

  it("with the password: pending until the new address confirms; the old one is told; resets still go to the old one", async () => {
    const u = await createUser(h);
    const to = fresh();
    const r = await patchMe(u.access, { email: to, old_password: u.password, display_name: "Moved" });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ email: u.user.email, pending_email: to, display_name: "Moved" });

    const toNew = await waitForEmail(h, to);
    expect(toNew.headers.subject).toMatch(/confirm/i);
    const token = await emailChangeTokenFromEmail(h, to);
    // the web client's page, the token in the fragment (never sent to a server, so never logged)
    expect(toNew.text).toContain(`on this page: https://videos.example.org/#/confirm-email?token=${token}\n`);
    expect(toNew.text).toContain("POST https://videos.example.org/api/auth/email-change/confirm/");
    const toOld = await mailWith(u.user.email, /is being changed/);
    expect(toOld.text).toContain(to);
    expect(toOld.text).toMatch(/change your password/i);

    // Not applied yet: sign-in and password resets still know only the old address.
    const asNew = await h.app.inject({ method: "POST", url: "/api/auth/login/", payload: { email: to, password: u.password } });
    expect(asNew.statusCode).toBe(401);
    expect((await h.app.inject({ method: "POST", url: "/api/auth/password-reset/", payload: { email: to } })).statusCode).toBe(202);
    await new Promise((res) => setTimeout(res, 100));
    expect(await mailsTo(to)).toHaveLength(1);
  });
});

describe("POST /api/auth/email-change/confirm/", () => {
  it("changes the address, tells the old one, ends every other session and keeps the one that asked", async () => {
    const u = await createUser(h);
    const other = await login(u);
    const to = fresh();
    expect((await patchMe(u.access, { email: to, old_password: u.password })).statusCode).toBe(200);
    const token = await emailChangeTokenFromEmail(h, to);

    expect((await confirm("not-the-token")).json().error.code).toBe("email_change_token_invalid");
    const ok = await confirm(token);
    expect(ok.statusCode).toBe(204);

    const now = (await me(u.access)).json();
    expect(now).toMatchObject({ email: to, pending_email: null });
    // The other session: its access token is refused at once, its refresh token too.
    const otherMe = await me(other.access);
    expect(otherMe.statusCode).toBe(401);
    expect(otherMe.json().error.code).toBe("token_revoked");
    const otherRefresh = await h.app.inject({ method: "POST", url: "/api/auth/token/refresh/", payload: { refresh: other.refresh } });
    expect(otherRefresh.statusCode).toBe(401);
    // The requesting session goes on (its refresh token too).
    expect((await h.app.inject({ method: "POST", url: "/api/auth/token/refresh/", payload: { refresh: u.refresh } })).statusCode).toBe(200);

    const notice = await mailWith(u.user.email, /was changed/);
    expect(notice.text).toContain(`is now ${to}`);
    // Single use.
    expect((await confirm(token)).json().error.code).toBe("email_change_token_invalid");
    // Signing in and resets now use the new address.
    expect((await h.app.inject({ method: "POST", url: "/api/auth/login/", payload: { email: to, password: u.password } })).statusCode).toBe(200);
  });

  it("a reset link mailed to the old address before the change dies with it", async () => {
    const u = await createUser(h);
    await h.app.inject({ method: "POST", url: "/api/auth/password-reset/", payload: { email: u.user.email } });
    const resetMail = await mailWith(u.user.email, /password reset/i);
    const resetToken = /usable once\):\s*\n\s*\n([A-Za-z0-9_-]{20,})/.exec(resetMail.text)![1]!;
    const to = fresh();
    await patchMe(u.access, { email: to, old_password: u.password });
    expect((await confirm(await emailChangeTokenFromEmail(h, to))).statusCode).toBe(204);
    const reset = await h.app.inject({ method: "POST", url: "/api/auth/password-reset/confirm/", payload: { token: resetToken, new_password: "a-brand-new-passphrase" } });
    expect(reset.json().error.code).toBe("reset_token_invalid");
  });

  it("an expired token, one a newer request replaced, and one a password change cancelled are refused", async () => {
    const u = await createUser(h);
    const first = fresh();
    await patchMe(u.access, { email: first, old_password: u.password });
    const firstToken = await emailChangeTokenFromEmail(h, first);
    const second = fresh();
    await patchMe(u.access, { email: second, old_password: u.password });
    const secondToken = await emailChangeTokenFromEmail(h, second);
    expect((await confirm(firstToken)).json().error.code).toBe("email_change_token_invalid");

    await h.ctx.db.updateTable("email_changes").set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where("new_email", "=", second).execute();
    expect((await confirm(secondToken)).json().error.code).toBe("email_change_token_invalid");

    const third = fresh();
    await patchMe(u.access, { email: third, old_password: u.password });
    const thirdToken = await emailChangeTokenFromEmail(h, third);
    const pw = await h.app.inject({ method: "POST", url: "/api/users/me/password/", payload: { old_password: u.password, new_password: "an-entirely-new-passphrase" }, headers: authHeader(u.access) });
    expect(pw.statusCode).toBe(200);
    expect((await confirm(thirdToken)).json().error.code).toBe("email_change_token_invalid");
    expect((await me((pw.json() as { access: string }).access)).json()).toMatchObject({ email: u.user.email, pending_email: null });
  });

  it("an address taken between the request and the confirmation: 409, and the token still works once it is free", async () => {
    const u = await createUser(h);
    const to = fresh();
    await patchMe(u.access, { email: to, old_password: u.password });
    const token = await emailChangeTokenFromEmail(h, to);
    const squatter = await createUser(h, { email: to });
    expect((await confirm(token)).statusCode).toBe(409);
    await h.ctx.db.deleteFrom("users").where("id", "=", squatter.user.id).execute();
    expect((await confirm(token)).statusCode).toBe(204);
  });
});
