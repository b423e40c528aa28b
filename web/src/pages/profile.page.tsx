/**
 * The signed-in account: display name and bio, avatar, email address (changed only once the new
 * address confirms it), password, and the storage quota. Each part is its own form with its own
 * errors, shown next to the fields the API names in `details`.
 */
import { useEffect, useState } from "preact/hooks";
import { changePassword, uploadAvatar } from "../account/account-api.js";
import { FormError, FormField, FormTextArea, localFieldError, useAccountForm } from "../account/forms.js";
import { RequireSignIn } from "../account/guard.js";
import { api, me, reloadMe, type Me } from "../api/session.js";
import { Notice, Page } from "../ui/components.js";
import { formatDate, formatSize } from "../ui/format.js";

/** The API's limit (AVATAR_MAX_BYTES): refused here before uploading megabytes for a 413. */
const AVATAR_MAX_BYTES = 5 * 1024 * 1024;
const AVATAR_TYPES = "image/jpeg,image/png,image/gif,image/webp,image/avif";
const PASSWORD_HINT = "At least 8 characters, not only digits, not a common password, not close to your username or email.";

function ProfileForm(props: { user: Me }) {
  const [displayName, setDisplayName] = useState(props.user.display_name);
  const [bio, setBio] = useState(props.user.bio);
  const [saved, setSaved] = useState(false);
  const { busy, error, onSubmit, ref } = useAccountForm(async () => {
    setSaved(false);
    me.value = await api("patch", "/api/users/me/", { body: { display_name: displayName.trim(), bio } });
    setSaved(true);
  });
  return (
    <form ref={ref} onSubmit={onSubmit} aria-labelledby="profile-details" noValidate>
      <h2 id="profile-details">Public profile</h2>
      <FormError error={error} fields={["display_name", "bio"]} />
      <FormField
        id="profile-display-name"
        name="display_name"
        label="Display name"
        hint="Shown instead of your username."
        maxLength={150}
        autoComplete="name"
        value={displayName}
        onInput={(e) => setDisplayName(e.currentTarget.value)}
        error={error}
      />
      <FormTextArea id="profile-bio" name="bio" label="Bio" maxLength={2000} value={bio} onInput={(e) => setBio(e.currentTarget.value)} error={error} />
      {saved && <Notice>Profile saved.</Notice>}
      <button type="submit" disabled={busy}>
        {busy ? "Saving…" : "Save profile"}
      </button>
    </form>
  );
}

function AvatarForm(props: { user: Me }) {
  const [message, setMessage] = useState<string | null>(null);
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<unknown>(null);
  const { busy, error, onSubmit, ref } = useAccountForm(async (_form, el) => {
    setMessage(null);
    const input = el.querySelector<HTMLInputElement>('input[type="file"]');
    const file = input?.files?.[0];
    if (!file) throw localFieldError("file", "Choose an image first.");
    if (file.size > AVATAR_MAX_BYTES) throw localFieldError("file", "The image is larger than 5 MB.");
    await uploadAvatar(file);
    el.reset();
    setMessage("Avatar updated.");
  });
  const remove = async () => {
    setRemoving(true);
    setRemoveError(null);
    setMessage(null);
    try {
      await api("delete", "/api/users/me/avatar/");
      await reloadMe();
      setMessage("Avatar removed.");
    } catch (err) {
      setRemoveError(err);
    } finally {
      setRemoving(false);
    }
  };
  const avatar = props.user.avatar;
  return (
    <form ref={ref} onSubmit={onSubmit} aria-labelledby="profile-avatar" noValidate>
      <h2 id="profile-avatar">Avatar</h2>
      <div class="account-avatar">
        {avatar ? <img src={avatar["256"]} alt="Your current avatar" width={128} height={128} /> : <p class="empty">No avatar yet.</p>}
      </div>
      <FormError error={error ?? removeError} fields={["file"]} />
      <FormField id="profile-avatar-file" name="file" label="Avatar image" type="file" accept={AVATAR_TYPES} hint="JPEG, PNG, GIF, WebP or AVIF, up to 5 MB; shown square." error={error} />
      {message && <Notice>{message}</Notice>}
      <div class="row">
        <button type="submit" disabled={busy}>
          {busy ? "Uploading…" : "Upload avatar"}
        </button>
        {avatar && (
          <button type="button" class="danger" disabled={removing} onClick={() => void remove()}>
            {removing ? "Removing…" : "Remove avatar"}
          </button>
        )}
      </div>
    </form>
  );
}

function EmailForm(props: { user: Me }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, onSubmit, ref } = useAccountForm(async () => {
    me.value = await api("patch", "/api/users/me/", { body: { email: email.trim(), old_password: password } });
    setEmail("");
    setPassword("");
  });
  const pending = props.user.pending_email;
  return (
    <form ref={ref} onSubmit={onSubmit} aria-labelledby="profile-email" noValidate>
      <h2 id="profile-email">Email address</h2>
      <p>
        Your email address: <strong>{props.user.email}</strong>
      </p>
      {pending && (
        <Notice>
          Waiting for confirmation: we sent a link to <strong>{pending}</strong>. Your address changes once you open it.
        </Notice>
      )}
      <FormError error={error} fields={["email", "old_password"]} />
      <FormField id="profile-new-email" name="email" label="New email address" type="email" autoComplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} error={error} />
      <FormField
        id="profile-email-password"
        name="old_password"
        label="Current password"
        hint="Needed to change the address."
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onInput={(e) => setPassword(e.currentTarget.value)}
        error={error}
      />
      <button type="submit" disabled={busy}>
        {busy ? "Sending…" : "Change email address"}
      </button>
    </form>
  );
}

function PasswordForm() {
  const [done, setDone] = useState(false);
  const { busy, error, onSubmit, ref } = useAccountForm(async (form, el) => {
    setDone(false);
    const next = form.new_password ?? "";
    if (next !== form.confirm_password) throw localFieldError("confirm_password", "The two passwords differ.");
    await changePassword(form.old_password ?? "", next);
    el.reset();
    setDone(true);
  });
  return (
    <form ref={ref} onSubmit={onSubmit} aria-labelledby="profile-password" noValidate>
      <h2 id="profile-password">Password</h2>
      <FormError error={error} fields={["old_password", "new_password", "confirm_password"]} />
      <FormField id="profile-old-password" name="old_password" label="Current password" type="password" autoComplete="current-password" required error={error} />
      <FormField id="profile-new-password" name="new_password" label="New password" hint={PASSWORD_HINT} type="password" autoComplete="new-password" required error={error} />
      <FormField id="profile-confirm-password" name="confirm_password" label="Confirm new password" type="password" autoComplete="new-password" required error={error} />
      {done && <Notice>Password changed. Every other device was signed out.</Notice>}
      <button type="submit" disabled={busy}>
        {busy ? "Changing…" : "Change password"}
      </button>
    </form>
  );
}

function Storage(props: { user: Me }) {
  const { used_bytes: used, limit_bytes: limit } = props.user.quota;
  const percent = limit > 0 ? Math.min(100, Math.round((used / limit) * 100)) : 0;
  return (
    <section aria-labelledby="profile-storage">
      <h2 id="profile-storage">Storage</h2>
      <p id="profile-storage-text">
        {formatSize(used)} of {formatSize(limit)} used ({percent}%).
      </p>
      <meter class="account-meter" min={0} max={Math.max(limit, 1)} value={used} high={Math.max(limit, 1) * 0.9} aria-labelledby="profile-storage-text" />
    </section>
  );
}

function Profile() {
  const user = me.value;
  // The quota and a pending address change move on their own: read them fresh.
  useEffect(() => {
    void reloadMe().catch(() => null);
  }, []);
  // Signed out meanwhile (the refresh failed): RequireSignIn is leaving this page.
  if (!user) return null;
  const canEdit = user.role !== "guest";
  return (
    <Page title="Your profile">
      <dl class="account-facts">
        <dt>Username</dt>
        <dd>{user.username}</dd>
        <dt>Role</dt>
        <dd>{user.role}</dd>
        <dt>Member since</dt>
        <dd>{formatDate(user.date_joined)}</dd>
      </dl>
      <div class="account-sections">
        {canEdit ? (
          <>
            <ProfileForm user={user} />
            <AvatarForm user={user} />
            <EmailForm user={user} />
          </>
        ) : (
          <p>Your account has the guest role: it can watch videos, but not edit its profile.</p>
        )}
        <PasswordForm />
        <Storage user={user} />
      </div>
    </Page>
  );
}

export default function ProfilePage() {
  return (
    <RequireSignIn title="Your profile">
      <Profile />
    </RequireSignIn>
  );
}
