/**
 * Password reset. `#/reset` asks for the email address (the API answers the same whether or not
 * an account has it); the emailed link `#/reset?token=…` asks for the new password. The token
 * travels in the fragment, which browsers never send, so it stays out of server and proxy logs;
 * once used it is also taken out of the address bar.
 */
import { useState } from "preact/hooks";
import { FormError, FormField, localFieldError, useAccountForm } from "../account/forms.js";
import { bare, me, signOut } from "../api/session.js";
import { href, navigate } from "../router.js";
import { Notice, Page } from "../ui/components.js";

function RequestForm() {
  const [sent, setSent] = useState<string | null>(null);
  const { busy, error, onSubmit, ref } = useAccountForm(async (form) => {
    const r = await bare("post", "/api/auth/password-reset/", { body: { email: form.email?.trim() ?? "" } });
    setSent(r.detail);
  });
  return (
    <Page title="Reset your password">
      {sent ? (
        <>
          <Notice>{sent}</Notice>
          <p>Open the link in that email to choose a new password. It works once, for a limited time.</p>
        </>
      ) : (
        <form ref={ref} onSubmit={onSubmit} aria-labelledby="page-title" noValidate>
          <p>Enter the email address of your account: we will send you a link to choose a new password.</p>
          <FormError error={error} fields={["email"]} />
          <FormField id="reset-email" name="email" label="Email address" type="email" autoComplete="email" required error={error} />
          <button type="submit" disabled={busy}>
            {busy ? "Sending…" : "Send reset link"}
          </button>
        </form>
      )}
      <p>
        <a href={href("login")}>Back to sign in</a>
      </p>
    </Page>
  );
}

function NewPasswordForm(props: { token: string; onDone: () => void }) {
  const { busy, error, onSubmit, ref } = useAccountForm(async (form) => {
    const password = form.new_password ?? "";
    if (password !== form.confirm_password) throw localFieldError("confirm_password", "The two passwords differ.");
    await bare("post", "/api/auth/password-reset/confirm/", { body: { token: props.token, new_password: password } });
    // Every session of the account has ended: a session in this browser is one of them.
    if (me.value) await signOut();
    props.onDone();
  });
  return (
    <Page title="Choose a new password">
      <form ref={ref} onSubmit={onSubmit} aria-labelledby="page-title" noValidate>
        <FormError error={error} fields={["new_password", "confirm_password"]} />
        <FormField
          id="reset-new-password"
          name="new_password"
          label="New password"
          type="password"
          hint="At least 8 characters, not only digits, not a common password, not close to your username or email."
          autoComplete="new-password"
          required
          error={error}
        />
        <FormField id="reset-confirm-password" name="confirm_password" label="Confirm new password" type="password" autoComplete="new-password" required error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : "Set new password"}
        </button>
      </form>
      <p>
        The link expired or was already used? <a href={href("reset")}>Ask for a new one</a>
      </p>
    </Page>
  );
}

export default function ResetPage(props: { query: URLSearchParams }) {
  const [done, setDone] = useState(false);
  const token = props.query.get("token");
  if (done) {
    return (
      <Page title="Password changed">
        <Notice>Your password has been changed, and every device signed in to your account was signed out.</Notice>
        <p>
          <a href={href("login")}>Sign in with your new password</a>
        </p>
      </Page>
    );
  }
  if (!token) return <RequestForm />;
  return (
    <NewPasswordForm
      token={token}
      onDone={() => {
        setDone(true);
        // The used token out of the address bar and the history entry.
        navigate(href("reset"), { replace: true });
      }}
    />
  );
}
