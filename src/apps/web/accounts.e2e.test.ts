/**
 * The account pages end to end in headless Chromium, against a real server (no worker: nothing
 * here converts video):
 * - sign up through the page, a reload keeps the session (refresh cookie), an admin who signed in
 *   through the page makes the new account an uploader from the admin page (the API agrees);
 * - pages that need an account send a signed-out visitor to `#/login?next=…` and back; pages that
 *   need a role say which one;
 * - the profile: display name and bio, an avatar upload (a PNG made by sharp), a refused password
 *   with the rules' messages at the field, a password change that keeps the browser signed in
 *   (the answer renews the refresh cookie: no second login),
 *   an email change confirmed through the emailed `#/confirm-email?token=` link, avatar removal;
 * - a password reset through the emailed `#/reset?token=` link opened in the browser;
 * - moderation: the page lists every commenting block, newest first (blocks made before it was
 *   opened too, a second page through "Load more"); a moderator blocks the reported commenter
 *   (the list loads again with the block on top), removes the reported comment, deletes another
 *   comment and lifts the block from the list (its row goes, the API agrees).
 * Every page: no serious or critical axe-core violation, phone and desktop screenshots in
 * test-results/, no console errors, exceptions or failed responses.
 */
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axeViolations, HAS_CHROMIUM, launchChromium, pageErrors, screenshots, startWebServer, type Browser, type Page, type WebServer } from "../../test/browser.fixtures.js";
import { authHeader, createUser, waitForEmail, type TestUser } from "../../test/users.fixtures.js";
import { call, insertVideo, postComment } from "../reactions/reactions.fixtures.js";

const VIDEO_TITLE = "Harbour at dawn";
const SPAM = "Cheap pills at spam.example, 0:10";

describe.skipIf(!HAS_CHROMIUM)("web: account pages in headless Chromium", () => {
  let web: WebServer;
  let browser: Browser;
  let admin: TestUser;
  let moderator: TestUser;
  let commenter: TestUser;
  let reporter: TestUser;
  let videoId: string;
  let reportId: string;

  beforeAll(async () => {
    [web, browser] = await Promise.all([startWebServer({}, { worker: false }), launchChromium()]);
    const h = web.h;
    admin = await createUser(h, { role: "admin" });
    moderator = await createUser(h, { role: "moderator" });
    commenter = await createUser(h, { role: "user" });
    reporter = await createUser(h, { role: "user" });
    const owner = await createUser(h, { role: "uploader" });
    videoId = await insertVideo(h, owner.user.id);
    await h.ctx.db.updateTable("videos").set({ title: VIDEO_TITLE }).where("id", "=", videoId).execute();
    const spam = await postComment(h, videoId, commenter, SPAM);
    const report = await call<{ id: string }>(h, { method: "POST", url: `/api/comments/${spam.id}/report/`, as: reporter, body: { reason: "spam", details: "Same link on every video" } });
    expect(report.status).toBe(201);
    reportId = report.json.id;
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
  });

  /** A fresh browser profile (no cookies) and its page, with its errors recorded. */
  async function open(opts: { ignoreStatus?: (url: string, status: number) => boolean } = {}): Promise<{ page: Page; errors: string[] }> {
    // Each context is closed with the browser.
    const page = await (await browser.newContext()).newPage();
    return { page, errors: pageErrors(page, opts) };
  }

  /** axe on the page as it is now, then its screenshots. */
  async function check(page: Page, name: string): Promise<void> {
    expect(await axeViolations(page)).toEqual([]);
    await screenshots(page, name);
  }

  const heading = (page: Page, name: string) => page.getByRole("heading", { level: 1, name, exact: true }).waitFor();

  /** The login form, already open (e.g. after a redirect), filled and sent. */
  async function signInHere(page: Page, user: { username: string; password: string }): Promise<void> {
    await page.getByLabel("Username").fill(user.username);
    await page.getByLabel("Password", { exact: true }).fill(user.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
  }

  /** Opens a page that needs an account: it sends to the login page with `next`, which comes back. */
  async function signInTo(page: Page, route: string, user: { username: string; password: string }): Promise<void> {
    await page.goto(`${web.base}/#/${route}`);
    await page.waitForURL((u) => u.hash === `#/login?next=${encodeURIComponent(`#/${route}`)}`);
    await heading(page, "Sign in");
    await signInHere(page, user);
    await page.waitForURL((u) => u.hash === `#/${route}`);
  }

  const hash = (page: Page) => page.evaluate(() => window.location.hash);

  it("signs up through the page; a reload keeps the session; an admin makes the account an uploader", async () => {
    const person = { username: `newcomer_${Date.now().toString(36)}`, email: `newcomer.${Date.now().toString(36)}@example.com`, password: "saffron-kettle-orbit-93" };
    const { page, errors } = await open();
    await page.goto(`${web.base}/#/register?next=${encodeURIComponent("#/profile")}`);
    await heading(page, "Sign up");
    await check(page, "register");
    await page.getByLabel("Username").fill(person.username);
    await page.getByLabel("Email address").fill(person.email);
    await page.getByLabel("Display name (optional)").fill("New Comer");
    await page.getByLabel("Password", { exact: true }).fill(person.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await heading(page, "Your profile");
    expect(await hash(page)).toBe("#/profile");
    await page.getByRole("link", { name: "New Comer" }).waitFor();

    // The access token lived in memory only: the refresh cookie brings the session back.
    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    await heading(page, "Your profile");
    // A user (not yet an uploader): no upload link, and the admin page names the role it needs.
    expect(await page.getByRole("link", { name: "Upload" }).count()).toBe(0);
    await page.goto(`${web.base}/#/admin`);
    await page.getByRole("alert").getByText("You need the admin role").waitFor();

    const listed = await web.h.app.inject({ method: "GET", url: `/api/users/?search=${person.username}`, headers: authHeader(admin.access) });
    const account = (listed.json() as { results: { id: string; role: string }[] }).results[0]!;
    expect(account.role).toBe("user");

    const a = await open();
    await signInTo(a.page, "admin", { username: admin.user.username, password: admin.password });
    await heading(a.page, "Accounts");
    await a.page.getByLabel("Search accounts").fill(person.username);
    await a.page.getByRole("button", { name: "Search", exact: true }).click();
    await a.page.waitForURL((u) => u.hash === `#/admin?search=${person.username}`);
    await expect.poll(() => a.page.getByRole("row").count()).toBe(2);
    await check(a.page, "admin");
    await a.page.getByLabel(`Role of ${person.username}`).selectOption("uploader");
    await a.page.getByRole("button", { name: `Save changes to ${person.username}` }).click();
    await a.page.getByRole("status").getByText(`Saved: ${person.username} is uploader.`).waitFor();
    const after = await web.h.app.inject({ method: "GET", url: `/api/users/${account.id}/` });
    expect(after.json()).toMatchObject({ username: person.username, role: "uploader" });

    // The new uploader's next page load shows what the role allows.
    await page.goto(`${web.base}/#/profile`);
    await page.reload();
    await page.getByRole("link", { name: "Upload" }).waitFor();
    expect(errors).toEqual([]);
    expect(a.errors).toEqual([]);
  });

  it("profile: display name, avatar, password rules and change, email change through the emailed link", async () => {
    const u = await createUser(web.h, { role: "uploader" });
    // The refused password answers 400 on purpose.
    const { page, errors } = await open({ ignoreStatus: (url, status) => status === 400 && url.endsWith("/api/users/me/password/") });
    await signInTo(page, "profile", { username: u.user.username, password: u.password });
    await heading(page, "Your profile");

    const details = page.getByRole("form", { name: "Public profile" });
    await details.getByLabel("Display name").fill("Pat Example");
    await details.getByLabel("Bio").fill("Films harbour birds.");
    await details.getByRole("button", { name: "Save profile" }).click();
    await details.getByRole("status").getByText("Profile saved.").waitFor();
    await page.getByRole("navigation").getByRole("link", { name: "Pat Example" }).waitFor();

    const png = await sharp({ create: { width: 320, height: 200, channels: 3, background: "#2a7f62" } }).png().toBuffer();
    const avatar = page.getByRole("form", { name: "Avatar" });
    await avatar.getByLabel("Avatar image").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: png });
    await avatar.getByRole("button", { name: "Upload avatar" }).click();
    await avatar.getByRole("status").getByText("Avatar updated.").waitFor();
    const img = avatar.getByRole("img", { name: "Your current avatar" });
    // Served by the API and decoded: the 256 px WebP.
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth)).toBe(256);
    const me = (await web.h.app.inject({ method: "GET", url: "/api/users/me/", headers: authHeader(u.access) })).json() as { display_name: string; bio: string; avatar: Record<string, string> | null };
    expect(me).toMatchObject({ display_name: "Pat Example", bio: "Films harbour birds." });
    expect(me.avatar?.["256"]).toContain(`/api/users/${u.user.id}/avatar/256/`);

    const password = page.getByRole("form", { name: "Password" });
    await password.getByLabel("Current password").fill(u.password);
    await password.getByLabel("New password", { exact: true }).fill("12345678");
    await password.getByLabel("Confirm new password").fill("12345678");
    await password.getByRole("button", { name: "Change password" }).click();
    // Every rule it breaks, next to the field, which gets the focus.
    const fieldErrors = page.locator("#profile-new-password-error");
    await fieldErrors.getByText("This password is entirely numeric.").waitFor();
    await fieldErrors.getByText("This password is too common.").waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("profile-new-password");
    expect(await password.getByLabel("New password", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    await check(page, "profile");

    const newPassword = "amber-lantern-river-71";
    const logins: string[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname === "/api/auth/login/") logins.push(r.url());
    });
    await password.getByLabel("New password", { exact: true }).fill(newPassword);
    await password.getByLabel("Confirm new password").fill(newPassword);
    const changed = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/users/me/password/" && r.status() === 200);
    await password.getByRole("button", { name: "Change password" }).click();
    await password.getByRole("status").getByText("Password changed.").waitFor();
    // Cookie mode: the new refresh token came as the httpOnly cookie, not in the body, and the
    // page did not sign in again.
    const answer = await changed;
    expect(((await answer.json()) as { refresh: string | null }).refresh).toBeNull();
    expect((await answer.headerValue("set-cookie")) ?? "").toMatch(/vidflux_refresh=[^;]+;[^\n]*HttpOnly/i);
    expect(logins).toEqual([]);
    // Every session ended, this page's cookie session was renewed: a reload stays signed in.
    expect((await web.h.app.inject({ method: "GET", url: "/api/users/me/", headers: authHeader(u.access) })).statusCode).toBe(401);
    await page.reload();
    await heading(page, "Your profile");
    await page.getByRole("button", { name: "Sign out" }).waitFor();

    const newEmail = `pat.${Date.now().toString(36)}@example.org`;
    const email = page.getByRole("form", { name: "Email address" });
    await email.getByLabel("New email address").fill(newEmail);
    await email.getByLabel("Current password").fill(newPassword);
    await email.getByRole("button", { name: "Change email address" }).click();
    await email.getByRole("status").getByText(`we sent a link to ${newEmail}`).waitFor();
    const mail = await waitForEmail(web.h, newEmail);
    const link = /\/#\/confirm-email\?token=[A-Za-z0-9_-]{20,}/.exec(mail.text)?.[0];
    expect(link).toBeDefined();
    await page.goto(`${web.base}${link!}`);
    await heading(page, "Confirm your new email address");
    await check(page, "confirm-email");
    await page.getByRole("button", { name: "Confirm email address" }).click();
    await heading(page, "Email address confirmed");
    expect(await hash(page)).toBe("#/confirm-email");
    await page.getByRole("link", { name: "Back to your profile" }).click();
    await page.getByText(`Your email address: ${newEmail}`).waitFor();

    await avatar.getByRole("button", { name: "Remove avatar" }).click();
    await avatar.getByText("No avatar yet.").waitFor();
    expect((await web.h.app.inject({ method: "GET", url: `/api/users/${u.user.id}/` })).json()).toMatchObject({ display_name: "Pat Example", avatar: null });
    // Chromium also logs the refused call on the console; any other 400 would still be listed by its response.
    expect(errors.filter((e) => e !== "Failed to load resource: the server responded with a status of 400 (Bad Request)")).toEqual([]);
  });

  it("password reset through the emailed link", async () => {
    const u = await createUser(web.h);
    const { page, errors } = await open();
    await page.goto(`${web.base}/#/login`);
    await heading(page, "Sign in");
    await check(page, "login");
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await heading(page, "Reset your password");
    await check(page, "reset-request");
    await page.getByLabel("Email address").fill(u.user.email);
    await page.getByRole("button", { name: "Send reset link" }).click();
    await page.getByRole("status").getByText("If an account uses this email address").waitFor();

    const mail = await waitForEmail(web.h, u.user.email);
    const link = /\/#\/reset\?token=[A-Za-z0-9_-]{20,}/.exec(mail.text)?.[0];
    expect(link).toBeDefined();
    await page.goto(`${web.base}${link!}`);
    await heading(page, "Choose a new password");
    await check(page, "reset-new-password");
    const newPassword = "quartz-meadow-lamp-58";
    await page.getByLabel("New password", { exact: true }).fill(newPassword);
    await page.getByLabel("Confirm new password").fill(newPassword);
    await page.getByRole("button", { name: "Set new password" }).click();
    await heading(page, "Password changed");
    // The used token is gone from the address bar.
    expect(await hash(page)).toBe("#/reset");

    const old = await web.h.app.inject({ method: "POST", url: "/api/auth/login/", payload: { username: u.user.username, password: u.password } });
    expect(old.statusCode).toBe(401);
    await signInTo(page, "profile", { username: u.user.username, password: newPassword });
    await heading(page, "Your profile");
    expect(errors).toEqual([]);
  });

  it("moderation: list the blocks, block the reported commenter, remove the comment, delete another, lift the block", async () => {
    const other = await postComment(web.h, videoId, reporter, "Lovely light in this one");
    // Blocks made before the page opens, one more than its first page (20) holds.
    for (let i = 0; i < 21; i++) {
      const troll = await createUser(web.h, { username: `earlier_troll_${i}` });
      const made = await call(web.h, { method: "POST", url: "/api/moderation/blocks/", as: moderator, body: { user_id: troll.user.id, reason: `Earlier block ${i}` } });
      expect(made.status).toBe(201);
    }
    /** The blocked usernames as the API lists them, newest first. */
    const apiBlocks = async () => (await call<{ results: { username: string }[] }>(web.h, { method: "GET", url: "/api/moderation/blocks/?limit=100", as: moderator })).json.results.map((b) => b.username);
    const earlier = await apiBlocks();
    expect(earlier).toHaveLength(21);

    const { page, errors } = await open();
    await signInTo(page, "moderation", { username: moderator.user.username, password: moderator.password });
    await heading(page, "Moderation");
    const blocked = page.getByRole("list", { name: "Blocked commenters" });
    const listedNames = () => blocked.getByRole("listitem").locator("strong").allTextContents();
    await expect.poll(listedNames).toEqual(earlier.slice(0, 20));
    await blocked.getByRole("listitem").first().getByText(/: Earlier block \d+$/).waitFor();
    await page.getByRole("button", { name: "Load more blocks" }).click();
    await expect.poll(listedNames).toEqual(earlier);
    expect(await page.getByRole("button", { name: "Load more blocks" }).count()).toBe(0);
    const report = page.getByRole("list", { name: "Open reports" }).getByRole("listitem").filter({ hasText: SPAM });
    await report.waitFor();
    expect(await report.getByRole("link", { name: VIDEO_TITLE }).getAttribute("href")).toBe(`#/watch/${videoId}`);
    await report.getByText("Reporter’s note: Same link on every video").waitFor();
    await check(page, "moderation");

    const name = commenter.user.username;
    await report.getByRole("button", { name: `Block ${name}…` }).click();
    await report.getByLabel(`Reason for blocking ${name} (optional)`).fill("Spam links");
    await report.getByRole("button", { name: `Block ${name}`, exact: true }).click();
    await report.getByText(`${name} is blocked from commenting.`).waitFor();
    // The list loaded again: the new block on top (with its reason), a first page again.
    await expect.poll(listedNames).toEqual([name, ...earlier.slice(0, 19)]);
    await blocked.getByRole("listitem").filter({ hasText: name }).getByText(": Spam links").waitFor();
    await page.getByRole("button", { name: "Load more blocks" }).waitFor();
    expect((await apiBlocks())[0]).toBe(name);
    const refused = await call(web.h, { method: "POST", url: `/api/videos/${videoId}/comment/`, as: commenter, body: { text: "more spam" } });
    expect([refused.status, refused.json.error?.code]).toEqual([403, "comment_blocked"]);

    await report.getByRole("button", { name: "Remove comment" }).click();
    await report.getByRole("button", { name: "Yes, remove the comment" }).click();
    await page.getByRole("status").getByText("The comment was removed and its reports closed.").waitFor();
    await page.getByText("No open reports.").waitFor();
    const removed = await call<{ results: { id: string; status: string }[] }>(web.h, { method: "GET", url: "/api/moderation/reports/?status=removed", as: moderator });
    expect(removed.json.results.map((r) => r.id)).toContain(reportId);

    const comments = page.getByRole("list", { name: "Recent comments, newest first" });
    const item = comments.getByRole("listitem").filter({ hasText: "Lovely light in this one" });
    expect(await comments.getByRole("listitem").filter({ hasText: SPAM }).count()).toBe(0);
    await item.getByRole("button", { name: "Delete comment" }).click();
    await item.getByRole("button", { name: "Yes, delete the comment" }).click();
    await page.getByRole("status").getByText("Comment deleted.").waitFor();
    await page.getByText("No comments yet.").waitFor();
    const left = await call<{ results: { id: string }[] }>(web.h, { method: "GET", url: `/api/videos/${videoId}/comments/` });
    expect(left.json.results.map((c) => c.id)).not.toContain(other.id);

    await blocked.getByRole("button", { name: `Unblock ${name}` }).click();
    await expect.poll(listedNames).toEqual(earlier.slice(0, 19));
    expect(await apiBlocks()).toEqual(earlier);
    const allowed = await call(web.h, { method: "POST", url: `/api/videos/${videoId}/comment/`, as: commenter, body: { text: "sorry" } });
    expect(allowed.status).toBe(201);
    expect(errors).toEqual([]);
  });
});
