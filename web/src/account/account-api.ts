/**
 * Account calls beyond a plain typed JSON call: signing in in cookie mode, the password change
 * that renews the browser's cookie session, and the avatar's multipart upload.
 */
import type { Ok } from "../../../src/apps/web/api-client.types.js";
import { sendForm } from "../api/send-form.js";
import { accessToken, api, bare, me, signedIn, type Me } from "../api/session.js";

/**
 * Login in cookie mode: the API sets the httpOnly refresh cookie and the CSRF cookie, so a
 * reload restores the session; the access token stays in memory only.
 */
export async function signInWithPassword(username: string, password: string): Promise<void> {
  const r = await bare("post", "/api/auth/login/", { body: { username, password, cookie: true } });
  await signedIn(r.access);
}

/** Registration in cookie mode (the new account is signed in at once). */
export async function register(body: { username: string; email: string; password: string; display_name?: string }): Promise<void> {
  const r = await bare("post", "/api/auth/register/", { body: { ...body, cookie: true } });
  await signedIn(r.access);
}

/**
 * A password change ends every session, this browser's cookie session included. In cookie mode
 * the API sets the new session's refresh cookie (and a new CSRF cookie) in the same answer, so
 * the page keeps the new access token and a reload stays signed in, with no second login.
 */
export async function changePassword(oldPassword: string, newPassword: string): Promise<void> {
  const pair = await api("post", "/api/users/me/password/", { body: { old_password: oldPassword, new_password: newPassword, cookie: true } });
  accessToken.value = pair.access;
}

type AvatarAnswer = Ok<"/api/users/me/avatar/", "put">;

/** `PUT /api/users/me/avatar/` as multipart/form-data with the image in `file`; answers the account. */
export async function uploadAvatar(file: File): Promise<Me> {
  const body = new FormData();
  body.append("file", file, file.name);
  const updated = await sendForm<AvatarAnswer>("PUT", "/api/users/me/avatar/", {}, body);
  me.value = updated;
  return updated;
}
