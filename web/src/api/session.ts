/**
 * The signed-in session: the access token lives in memory only (never localStorage, where any
 * script could read it); the refresh token is the API's httpOnly cookie, rotated through
 * `POST /api/auth/token/refresh/` with the double-submit CSRF header. A reload therefore starts
 * signed out for a moment and restores the session from the cookie (`restore()`).
 */
import { signal } from "@preact/signals";
import { createApi, type Api } from "./client.js";
import type { Paths } from "./client.js";

export type Me = Paths["/api/users/me/"]["get"]["responses"][200]["content"]["application/json"];

/** The access token (memory only) and the user it belongs to. */
export const accessToken = signal<string | null>(null);
export const me = signal<Me | null>(null);
/** False until the first `restore()` has answered: pages wait for it before asking for sign-in. */
export const sessionReady = signal(false);

const CSRF_COOKIE = "vidflux_csrf=";
export const csrfToken = (): string => document.cookie.split("; ").find((c) => c.startsWith(CSRF_COOKIE))?.slice(CSRF_COOKIE.length) ?? "";

function jwtExp(token: string): number | null {
  try {
    const part = (token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/");
    const exp = (JSON.parse(window.atob(part)) as { exp?: number }).exp;
    return typeof exp === "number" ? exp : null;
  } catch {
    return null;
  }
}

/** Calls without the session's token (the session plumbing itself: refresh, logout). */
export const bare: Api = createApi((url, init) => fetch(url, { ...init, credentials: "same-origin" }));

let refreshing: Promise<boolean> | null = null;
/** Rotates the refresh cookie; signs out when that fails (no cookie, reuse, ended session). */
export function refreshSession(): Promise<boolean> {
  refreshing ??= bare("post", "/api/auth/token/refresh/", { body: {}, headers: { "x-csrf-token": csrfToken() } })
    .then((pair) => {
      accessToken.value = pair.access;
      return true;
    })
    .catch(() => {
      accessToken.value = null;
      me.value = null;
      return false;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** The access token, refreshed first when it expires within 30 s. */
export async function freshToken(): Promise<string | null> {
  const t = accessToken.value;
  const exp = t ? jwtExp(t) : null;
  if (t && exp && exp * 1000 - Date.now() < 30_000) await refreshSession();
  return accessToken.value;
}

/** Calls with the session's bearer token; a refused token is refreshed once and the call retried. */
export const api: Api = createApi(async (url, init) => {
  const send = async () => {
    const token = await freshToken();
    const headers = new Headers(init.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    return fetch(url, { ...init, headers, credentials: "same-origin" });
  };
  const res = await send();
  if (res.status === 401 && accessToken.value) return (await refreshSession()) ? send() : res;
  return res;
});

/** After login/register (cookie mode): keep the token, read the profile. */
export async function signedIn(access: string): Promise<void> {
  accessToken.value = access;
  me.value = await api("get", "/api/users/me/");
}

/** On page load: a refresh cookie from an earlier visit signs the user back in. */
export async function restore(): Promise<void> {
  try {
    if (csrfToken() && (await refreshSession())) me.value = await api("get", "/api/users/me/");
  } catch {
    me.value = null;
  } finally {
    sessionReady.value = true;
  }
}

export async function reloadMe(): Promise<void> {
  me.value = await api("get", "/api/users/me/");
}

export async function signOut(): Promise<void> {
  await bare("post", "/api/auth/logout/", { body: {}, headers: { "x-csrf-token": csrfToken() } }).catch(() => null);
  accessToken.value = null;
  me.value = null;
}

/** What the user's role allows (the API decides; this only hides what would be refused). */
export function can(what: "upload" | "moderate" | "admin"): boolean {
  const role = me.value?.role;
  if (!role) return false;
  if (what === "upload") return role === "uploader" || role === "moderator" || role === "admin";
  if (what === "moderate") return role === "moderator" || role === "admin";
  return role === "admin";
}
