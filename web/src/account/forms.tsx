/**
 * Forms of the account pages: inputs that show the API's message for their own field (from the
 * error's `details` entries `{location, field, code, message}`), a form-level alert for the rest,
 * and a submit hook that moves focus to the first refused field so keyboard and screen reader
 * users land where the problem is.
 */
import type { JSX } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { ApiError, type ErrorDetail } from "../api/client.js";
import { useSubmit } from "../ui/components.js";

/** Messages by field name (`new_password` → its rule violations), from a refused call. */
export function fieldMessages(err: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!(err instanceof ApiError) || !Array.isArray(err.details)) return out;
  for (const d of err.details as ErrorDetail[]) {
    // Only the request's own inputs: a `querystring` or `headers` entry is no field of a form.
    if (!d.field || (d.location && d.location !== "body")) continue;
    const list = out.get(d.field) ?? [];
    if (d.message && !list.includes(d.message)) list.push(d.message);
    out.set(d.field, list);
  }
  return out;
}

type InputProps = JSX.IntrinsicElements["input"] & {
  /** Unique on the page: several forms of a page have a "Current password". */
  id: string;
  /** The FormData key, which is also the API's field name the errors are matched on. */
  name: string;
  label: string;
  hint?: string;
  error?: unknown;
};

/** A labelled input with its hint and its own error messages, tied by aria-describedby. */
export function FormField(props: InputProps) {
  const { id, label, hint, error, ...rest } = props;
  const messages = fieldMessages(error).get(props.name) ?? [];
  const describedBy = [hint ? `${id}-hint` : "", messages.length ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div class="field account-field">
      <label for={id}>{label}</label>
      <input id={id} {...rest} aria-invalid={messages.length ? "true" : undefined} aria-describedby={describedBy || undefined} />
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
      {messages.length > 0 && (
        <ul id={`${id}-error`} class="field-error">
          {messages.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

type TextAreaProps = JSX.IntrinsicElements["textarea"] & { id: string; name: string; label: string; error?: unknown };

export function FormTextArea(props: TextAreaProps) {
  const { id, label, error, ...rest } = props;
  const messages = fieldMessages(error).get(props.name) ?? [];
  return (
    <div class="field account-field">
      <label for={id}>{label}</label>
      <textarea id={id} {...rest} aria-invalid={messages.length ? "true" : undefined} aria-describedby={messages.length ? `${id}-error` : undefined} />
      {messages.length > 0 && (
        <ul id={`${id}-error`} class="field-error">
          {messages.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * The error's message, plus the messages of fields the form does not show (those would be lost
 * otherwise); the shown fields carry their own.
 */
export function FormError(props: { error: unknown; fields: string[] }) {
  if (!props.error) return null;
  const err = props.error;
  const message = err instanceof Error ? err.message : String(err);
  // A message that only repeats the error's own (`fieldError` entries do) is said once.
  const other = [...fieldMessages(err)]
    .filter(([field]) => !props.fields.includes(field))
    .map(([field, list]) => [field, list.filter((m) => m !== message)] as const)
    .filter(([, list]) => list.length > 0);
  return (
    <div class="error account-form-error" role="alert">
      <p>{message}</p>
      {other.length > 0 && (
        <ul>
          {other.map(([field, list]) => (
            <li key={field}>
              {field}: {list.join(" ")}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** `useSubmit` plus focus on the first refused field after a failure, and a form ref. */
export function useAccountForm(run: (form: Record<string, string>, el: HTMLFormElement) => Promise<void>) {
  const ref = useRef<HTMLFormElement>(null);
  const s = useSubmit(run);
  useEffect(() => {
    if (!s.error) return;
    ref.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [s.error]);
  return { ...s, ref };
}

/** A client-side refusal shaped like the API's, so it shows next to its field the same way. */
export function localFieldError(field: string, message: string): ApiError {
  return new ApiError(400, { error: { code: "validation_error", message: "Please check the form.", details: [{ location: "body", field, code: "invalid", message }] } });
}
