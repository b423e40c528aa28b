/**
 * Confirms a new email address with the token mailed to it (`#/confirm-email?token=…`, in the
 * fragment so it stays out of logs). No sign-in needed: the token is the proof, and the link may
 * be opened on another device. It takes a click rather than confirming on load, so a mail
 * client's link preview cannot use the token up.
 */
import { useState } from "preact/hooks";
import { FormError, FormField, useAccountForm } from "../account/forms.js";
import { bare, me, reloadMe } from "../api/session.js";
import { href, navigate } from "../router.js";
import { Notice, Page } from "../ui/components.js";

export default function ConfirmEmailPage(props: { query: URLSearchParams }) {
  const linked = props.query.get("token");
  const [done, setDone] = useState(false);
  const { busy, error, onSubmit, ref } = useAccountForm(async (form) => {
    await bare("post", "/api/auth/email-change/confirm/", { body: { token: (linked ?? form.token ?? "").trim() } });
    setDone(true);
    navigate(href("confirm-email"), { replace: true });
    // The session that asked for the change goes on; show it the new address.
    if (me.value) await reloadMe().catch(() => null);
  });
  if (done) {
    return (
      <Page title="Email address confirmed">
        <Notice>Your email address has been changed. Every other device signed in to your account was signed out.</Notice>
        <p>{me.value ? <a href={href("profile")}>Back to your profile</a> : <a href={href("login")}>Sign in</a>}</p>
      </Page>
    );
  }
  return (
    <Page title="Confirm your new email address">
      <form ref={ref} onSubmit={onSubmit} aria-labelledby="page-title" noValidate>
        <FormError error={error} fields={linked ? [] : ["token"]} />
        {linked ? (
          <p>Confirm that this new address should be used for your account from now on.</p>
        ) : (
          <FormField id="confirm-token" name="token" label="Confirmation token" hint="The token from the confirmation email." autoComplete="off" required error={error} />
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Confirming…" : "Confirm email address"}
        </button>
      </form>
    </Page>
  );
}
