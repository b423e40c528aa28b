/**
 * Sign in (cookie mode: the refresh token becomes an httpOnly cookie, so a reload keeps the
 * session), then back to `?next=` (the page that asked for it) or the catalogue.
 */
import { signInWithPassword } from "../account/account-api.js";
import { FormError, FormField, useAccountForm } from "../account/forms.js";
import { safeNext } from "../account/guard.js";
import { me } from "../api/session.js";
import { href, navigate } from "../router.js";
import { Page } from "../ui/components.js";

export default function LoginPage(props: { query: URLSearchParams }) {
  const next = safeNext(props.query.get("next"));
  const { busy, error, onSubmit, ref } = useAccountForm(async (form) => {
    await signInWithPassword(form.username ?? "", form.password ?? "");
    // Replace: Back from the next page should not return to a login form already used.
    navigate(next, { replace: true });
  });
  const user = me.value;
  if (user && !busy) {
    return (
      <Page title="Sign in">
        <p>
          You are signed in as <strong>{user.display_name || user.username}</strong>. <a href={next}>Continue</a>
        </p>
      </Page>
    );
  }
  return (
    <Page title="Sign in">
      <form ref={ref} onSubmit={onSubmit} aria-labelledby="page-title" noValidate>
        <FormError error={error} fields={["username", "password"]} />
        <FormField id="login-username" name="username" label="Username" hint="Your email address works too." autoComplete="username" required error={error} />
        <FormField id="login-password" name="password" label="Password" type="password" autoComplete="current-password" required error={error} />
        <div class="row">
          <button type="submit" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
          <a href={href("reset")}>Forgot your password?</a>
        </div>
      </form>
      <p>
        No account yet? <a href={href("register", { next: next === "#/" ? undefined : next })}>Sign up</a>
      </p>
    </Page>
  );
}
