/**
 * Sign up: creates the account (role `user`, or `uploader` where the site makes every account
 * one) and signs it in in cookie mode, then goes on to `?next=` or the catalogue. The password
 * rules are the API's; their messages show next to the field.
 */
import { register } from "../account/account-api.js";
import { FormError, FormField, useAccountForm } from "../account/forms.js";
import { safeNext } from "../account/guard.js";
import { me } from "../api/session.js";
import { href, navigate } from "../router.js";
import { Page } from "../ui/components.js";

const FIELDS = ["username", "email", "display_name", "password"];

export default function RegisterPage(props: { query: URLSearchParams }) {
  const next = safeNext(props.query.get("next"));
  const { busy, error, onSubmit, ref } = useAccountForm(async (form) => {
    const displayName = form.display_name?.trim();
    await register({
      username: form.username?.trim() ?? "",
      email: form.email?.trim() ?? "",
      password: form.password ?? "",
      ...(displayName ? { display_name: displayName } : {}),
    });
    navigate(next, { replace: true });
  });
  const user = me.value;
  if (user && !busy) {
    return (
      <Page title="Sign up">
        <p>
          You are signed in as <strong>{user.display_name || user.username}</strong>. <a href={next}>Continue</a>
        </p>
      </Page>
    );
  }
  return (
    <Page title="Sign up">
      <form ref={ref} onSubmit={onSubmit} aria-labelledby="page-title" noValidate>
        <FormError error={error} fields={FIELDS} />
        <FormField id="register-username" name="username" label="Username" hint="3 to 150 letters, digits or @ . + - _" autoComplete="username" required error={error} />
        <FormField id="register-email" name="email" label="Email address" type="email" autoComplete="email" required error={error} />
        <FormField id="register-display-name" name="display_name" label="Display name (optional)" autoComplete="name" maxLength={150} error={error} />
        <FormField
          id="register-password"
          name="password"
          label="Password"
          type="password"
          hint="At least 8 characters, not only digits, not a common password, not close to your username or email."
          autoComplete="new-password"
          required
          error={error}
        />
        <button type="submit" disabled={busy}>
          {busy ? "Creating your account…" : "Create account"}
        </button>
      </form>
      <p>
        Already have an account? <a href={href("login", { next: next === "#/" ? undefined : next })}>Sign in</a>
      </p>
    </Page>
  );
}
