/**
 * Building blocks of the moderation page: a two-step button for what cannot be undone, the
 * inline "block this commenter" form, and what the page knows of commenting blocks.
 */
import { signal } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api/session.js";
import { ErrorBox } from "../ui/components.js";

/**
 * The accounts known to be blocked: those on the loaded pages of `GET /api/moderation/blocks/`
 * (a first page replaces them, "Load more" adds), plus blocks made here, minus blocks lifted
 * here. The "Block"/"Unblock" buttons follow it, and the list shows only the entries still in
 * it, so lifting a block (from the list or a report) takes its row out at once.
 */
export const blockedIds = signal<ReadonlySet<string>>(new Set());

/** Bumped by every block made on the page: the list of blocks then loads again (newest first). */
export const blocksRevision = signal(0);

export const isBlocked = (userId: string) => blockedIds.value.has(userId);

/** Records the blocks of a loaded page of the list: `first` for a first page, which replaces what was known. */
export function noteBlocked(userIds: string[], first: boolean): void {
  blockedIds.value = new Set(first ? userIds : [...blockedIds.value, ...userIds]);
}

export async function block(userId: string, reason: string): Promise<void> {
  await api("post", "/api/moderation/blocks/", { body: { user_id: userId, ...(reason ? { reason } : {}) } });
  noteBlocked([userId], false);
  blocksRevision.value++;
}

export async function unblock(userId: string): Promise<void> {
  await api("delete", "/api/moderation/blocks/{user_id}/", { params: { user_id: userId } });
  const rest = new Set(blockedIds.value);
  rest.delete(userId);
  blockedIds.value = rest;
}

/**
 * A destructive action asks once more, in place (no `window.confirm`, which some browsers
 * suppress and which takes the page's focus away): the confirmation gets the focus, Cancel
 * puts it back.
 */
export function ConfirmButton(props: { label: string; confirm: string; onConfirm: () => Promise<void>; class?: string }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const yes = useRef<HTMLButtonElement>(null);
  const first = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    if (asking) yes.current?.focus();
    else if (wasAsking.current) first.current?.focus();
    wasAsking.current = asking;
  }, [asking]);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm();
    } catch (err) {
      setError(err);
      setAsking(false);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="account-confirm">
      {asking ? (
        <>
          <button type="button" ref={yes} class="danger" disabled={busy} onClick={() => void run()}>
            {busy ? "Working…" : props.confirm}
          </button>
          <button type="button" class="secondary" disabled={busy} onClick={() => setAsking(false)}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" ref={first} class={props.class ?? "danger"} onClick={() => setAsking(true)}>
          {props.label}
        </button>
      )}
      <ErrorBox error={error} />
    </span>
  );
}

/** "Block <author>" opening a small form for the reason; a blocked author gets "Unblock" instead. */
export function BlockControl(props: { userId: string; username: string; idPrefix: string }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (open) input.current?.focus();
  }, [open]);
  const blocked = isBlocked(props.userId);
  const act = async (run: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await run();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (blocked) {
    return (
      <span class="account-confirm">
        <span class="hint">{props.username} is blocked from commenting.</span>
        <button type="button" class="secondary" disabled={busy} onClick={() => void act(() => unblock(props.userId))}>
          Unblock {props.username}
        </button>
        <ErrorBox error={error} />
      </span>
    );
  }
  if (!open) {
    return (
      <button type="button" class="secondary" onClick={() => setOpen(true)}>
        Block {props.username}…
      </button>
    );
  }
  const id = `${props.idPrefix}-block-reason`;
  return (
    <form
      class="account-block-form"
      aria-label={`Block ${props.username} from commenting`}
      onSubmit={(e) => {
        e.preventDefault();
        void act(async () => {
          await block(props.userId, reason.trim());
          setOpen(false);
          setReason("");
        });
      }}
    >
      <label for={id}>Reason for blocking {props.username} (optional)</label>
      <input id={id} ref={input} value={reason} maxLength={2000} onInput={(e) => setReason(e.currentTarget.value)} />
      <button type="submit" class="danger" disabled={busy}>
        {busy ? "Blocking…" : `Block ${props.username}`}
      </button>
      <button type="button" class="secondary" disabled={busy} onClick={() => setOpen(false)}>
        Cancel
      </button>
      <ErrorBox error={error} />
    </form>
  );
}
