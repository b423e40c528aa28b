/**
 * Access to the pages that need an account or a role. The API is what refuses; these only spare
 * a person a page of 401/403 errors: signed out → `#/login?next=<this page>`, signed in without
 * the role → a message saying which role the page needs.
 */
import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";
import { can, me } from "../api/session.js";
import { href, navigate } from "../router.js";
import { Page } from "../ui/components.js";

/** The current page as a `next=` value (the hash, so a sign-in comes back to it, query included). */
export const currentHash = (): string => window.location.hash || "#/";

/**
 * Where to go after signing in: only one of this app's own hash routes, so a crafted
 * `?next=https://elsewhere` link cannot send a person off the site.
 */
export function safeNext(next: string | null): string {
  return next && next.startsWith("#/") && !next.startsWith("#//") ? next : "#/";
}

/** The sign-in link that comes back here afterwards. */
export const loginHref = (next = currentHash()) => href("login", { next });

/** Renders the children for a signed-in user; otherwise goes to the login page (replacing this entry, so Back does not loop). */
export function RequireSignIn(props: { title: string; children: ComponentChildren }) {
  const user = me.value;
  useEffect(() => {
    if (!user) navigate(loginHref(), { replace: true });
  }, [user]);
  if (!user) {
    return (
      <Page title={props.title}>
        <p>
          This page needs you to <a href={loginHref()}>sign in</a>.
        </p>
      </Page>
    );
  }
  return <>{props.children}</>;
}

const ROLE_NAMES = { upload: "uploader", moderate: "moderator", admin: "admin" } as const;

/** Signed in and with the role (`moderate`: moderators and admins), or a message naming the role. */
export function RequireRole(props: { title: string; right: keyof typeof ROLE_NAMES; children: ComponentChildren }) {
  return (
    <RequireSignIn title={props.title}>
      {can(props.right) ? (
        props.children
      ) : (
        <Page title={props.title}>
          <p class="error" role="alert">
            You need the {ROLE_NAMES[props.right]} role to use this page. Your account has the {me.value?.role ?? "guest"} role; an administrator can change it.
          </p>
          <p>
            <a href="#/">Back to the catalogue</a>
          </p>
        </Page>
      )}
    </RequireSignIn>
  );
}
