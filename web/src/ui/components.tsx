/** Small building blocks every page uses: page frame, form fields, errors, empty and loading states. */
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { describeError } from "../api/client.js";
import { routeChanges } from "../router.js";

let focusedFor = 0;

/**
 * One page: its `<h1>` and the document title. After a navigation inside the app the heading
 * takes the focus: a hash change leaves it on the link that was followed (often gone with the
 * old page, so on the body), and a screen reader would announce nothing of the new page.
 */
export function Page(props: { title: string; children: ComponentChildren; wide?: boolean; actions?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} · vidflux`;
  }, [props.title]);
  useEffect(() => {
    if (routeChanges === 0) return;
    // Once per navigation (a page shown after its "Loading…" frame keeps the focus where it is),
    // unless the focus fell to the body with the frame it was in.
    const lost = !document.activeElement || document.activeElement === document.body;
    if (focusedFor === routeChanges && !lost) return;
    focusedFor = routeChanges;
    heading.current?.focus();
  }, []);
  return (
    <section class={props.wide ? "page page-wide" : "page"} aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title" ref={heading} tabIndex={-1}>
          {props.title}
        </h1>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

type InputProps = JSX.IntrinsicElements["input"];

/** A labelled input (the label is the accessible name; a hint is tied by aria-describedby). */
export function Field(props: InputProps & { label: string; hint?: string; name: string }) {
  const { label, hint, ...rest } = props;
  const id = `f-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} {...rest} aria-describedby={hint ? `${id}-hint` : undefined} />
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

export function TextArea(props: JSX.IntrinsicElements["textarea"] & { label: string; name: string }) {
  const { label, ...rest } = props;
  const id = `f-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <textarea id={id} {...rest} />
    </div>
  );
}

export function Select(props: JSX.IntrinsicElements["select"] & { label: string; name: string; options: [string, string][] }) {
  const { label, options, ...rest } = props;
  const id = `f-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} {...rest}>
        {options.map(([value, text]) => (
          <option value={value} key={value}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

/** An error for a person: the API's message and each refused field. */
export function ErrorBox(props: { error: unknown }) {
  if (!props.error) return null;
  return (
    <p class="error" role="alert">
      {describeError(props.error)}
    </p>
  );
}

export function Notice(props: { children: ComponentChildren }) {
  return (
    <p class="notice" role="status">
      {props.children}
    </p>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

export function Loading(props: { label?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      {props.label ?? "Loading…"}
    </p>
  );
}

/** Loads once per key: `{data, error, loading, reload}`. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | null; error: unknown; loading: boolean; reload: () => void; set: (v: T | ((old: T | null) => T | null)) => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    load()
      .then((d) => live && setData(d))
      .catch((e: unknown) => live && setError(e))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return { data, error, loading, reload: () => setN((x) => x + 1), set: setData };
}

/** A form's submit: busy state, the error, and `FormData` as a plain record. */
export function useSubmit(run: (form: Record<string, string>, el: HTMLFormElement) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    const el = e.currentTarget as HTMLFormElement;
    const form: Record<string, string> = {};
    new FormData(el).forEach((v, k) => {
      if (typeof v === "string") form[k] = v;
    });
    setBusy(true);
    setError(null);
    try {
      await run(form, el);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, onSubmit, setError };
}
