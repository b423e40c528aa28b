/**
 * Upload (`#/upload`, uploaders): pick or drop files, give each its details, send them with tus
 * (two at a time, pause/resume, cancel, resume after a reload by picking the same file), then
 * follow the server's validation and conversion until the video is ready.
 */
import { useEffect, useState } from "preact/hooks";
import { RequireRole } from "../account/guard.js";
import { href } from "../router.js";
import { Field, Notice, Page, Select, TextArea } from "../ui/components.js";
import { formatDate, formatEta, formatPercent as pct, formatRate, formatSize } from "../ui/format.js";
import { describeLive } from "../upload/status-text.js";
import { addFiles, cancelItem, discardResumable, findResumable, MAX_PARALLEL, queue, removeItem, startAll, type ItemState, type Resumable, type UploadItem } from "../upload/upload-queue.js";

const VISIBILITY: [string, string][] = [
  ["public", "Public: in the catalogue"],
  ["unlisted", "Unlisted: anyone with the link"],
  ["private", "Private: only you"],
];
const LANGUAGES: [string, string][] = [
  ["en", "English"],
  ["fr", "French"],
  ["de", "German"],
  ["es", "Spanish"],
  ["it", "Italian"],
  ["pt", "Portuguese"],
  ["nl", "Dutch"],
  ["ja", "Japanese"],
  ["zh", "Chinese"],
];

const percentOf = (sent: number, total: number): number => (total > 0 ? Math.min(100, (sent * 100) / total) : 0);

export default function UploadPage() {
  return (
    <RequireRole title="Upload videos" right="upload">
      <Uploader />
    </RequireRole>
  );
}

function Uploader() {
  const items = queue.value;
  const states = items.map((i) => i.state.value);
  const drafts = states.filter((s) => s.phase === "draft").length;
  const finished = items.filter((i) => isFinished(i.state.value));
  return (
    <Page
      title="Upload videos"
      actions={
        <a class="button secondary" href={href("my-videos")}>
          My videos
        </a>
      }
    >
      <ResumableList items={items} />
      <Picker />
      {items.length > 0 && (
        <>
          <h2 id="queue-title">Files</h2>
          <div class="row upload-queue-actions">
            {drafts > 1 && (
              <button type="button" onClick={startAll}>
                Upload all ({drafts})
              </button>
            )}
            {finished.length > 0 && (
              <button type="button" class="secondary" onClick={() => finished.forEach(removeItem)}>
                Clear finished
              </button>
            )}
          </div>
          <ul class="upload-queue" aria-labelledby="queue-title">
            {items.map((item) => (
              <li key={item.key}>
                <UploadCard item={item} />
              </li>
            ))}
          </ul>
        </>
      )}
    </Page>
  );
}

const isFinished = (s: ItemState): boolean => (s.phase === "server" && (s.server?.status === "ready" || s.server?.status === "failed")) || (s.phase === "failed" && !s.retryable);

function Picker() {
  const [over, setOver] = useState(false);
  const add = (files: FileList | null | undefined) => {
    if (files?.length) addFiles(Array.from(files));
  };
  return (
    <div
      class={over ? "dropzone over" : "dropzone"}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        add(e.dataTransfer?.files);
      }}
    >
      <label for="upload-files">Choose video files</label>
      <input
        id="upload-files"
        name="files"
        type="file"
        multiple
        accept="video/*,.mkv,.ts,.mts,.m2ts"
        aria-describedby="upload-files-hint"
        onChange={(e) => {
          add(e.currentTarget.files);
          // the same file may be picked again (after a reload, to resume)
          e.currentTarget.value = "";
        }}
      />
      <p id="upload-files-hint" class="hint">
        Or drop files here. They are sent {MAX_PARALLEL} at a time; an interrupted upload continues when you pick the same file again.
      </p>
    </div>
  );
}

/** Stored uploads of this browser that stopped before the end (tus-js-client's localStorage). */
function ResumableList(props: { items: UploadItem[] }) {
  const [found, setFound] = useState<Resumable[] | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    findResumable()
      .then((r) => live && setFound(r))
      // The list only offers a shortcut: picking the file again still finds its upload.
      .catch(() => live && setFound([]));
    return () => {
      live = false;
    };
  }, [n]);
  // Those in the queue below (being resumed, or paused in this visit) are not listed twice.
  const keys = new Set(props.items.map((i) => i.state.value.previous?.stored.urlStorageKey).filter(Boolean));
  const urls = new Set(props.items.map((i) => i.state.value.uploadUrl).filter(Boolean));
  const list = (found ?? []).filter((r) => !keys.has(r.stored.urlStorageKey) && !urls.has(r.stored.uploadUrl));
  if (!list.length) return null;
  return (
    <section class="resumable" aria-labelledby="resumable-title">
      <h2 id="resumable-title">Resumable uploads</h2>
      <p>These uploads stopped before the end. Pick the same file again to continue where it stopped.</p>
      <ul>
        {list.map((r) => {
          const name = r.stored.metadata.filename ?? "a file";
          return (
            <li key={r.stored.urlStorageKey}>
              <strong>{r.stored.metadata.title || name}</strong> ({name}): {pct(percentOf(r.offset, r.length))} of {formatSize(r.length)} sent, started{" "}
              {formatDate(r.stored.creationTime)}.{" "}
              <button type="button" class="secondary" aria-label={`Discard the upload of ${name}`} onClick={() => void discardResumable(r).finally(() => setN((x) => x + 1))}>
                Discard
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function UploadCard(props: { item: UploadItem }) {
  const { item } = props;
  const s = item.state.value;
  const k = item.key;
  const name = item.file.name;
  return (
    <article class={`upload-item phase-${s.phase}`} aria-labelledby={`${k}-name`}>
      <h3 id={`${k}-name`} class="upload-name">
        {name} <span class="hint">{formatSize(item.file.size)}</span>
      </h3>
      {s.phase === "draft" ? <Draft item={item} s={s} /> : s.phase === "server" ? <ServerSide item={item} s={s} /> : <Sending item={item} s={s} />}
    </article>
  );
}

function Draft(props: { item: UploadItem; s: ItemState }) {
  const { item, s } = props;
  const k = item.key;
  const f = s.fields;
  const locked = s.previous !== null;
  return (
    <form
      class="upload-form"
      onSubmit={(e) => {
        e.preventDefault();
        item.enqueue();
      }}
    >
      {s.checking && <p class="hint">Looking for an earlier upload of this file…</p>}
      {s.previous && (
        <Notice>
          Resumable upload found: {pct(percentOf(s.previous.offset, s.previous.length))} ({formatSize(s.previous.offset)} of {formatSize(s.previous.length)}) was sent on{" "}
          {formatDate(s.previous.stored.creationTime)}. It continues from there with the details given then (change them in My videos afterwards).{" "}
          <button type="button" class="link" onClick={() => void item.startOver()}>
            Start over instead
          </button>
        </Notice>
      )}
      <Field label="Title" name={`${k}-title`} value={f.title} maxLength={200} required disabled={locked} onInput={(e) => item.setFields({ title: e.currentTarget.value })} />
      <TextArea label="Description" name={`${k}-description`} value={f.description} maxLength={5000} rows={3} disabled={locked} onInput={(e) => item.setFields({ description: e.currentTarget.value })} />
      <div class="upload-form-row">
        <Select
          label="Visibility"
          name={`${k}-visibility`}
          options={VISIBILITY}
          value={f.visibility}
          disabled={locked}
          onChange={(e) => item.setFields({ visibility: e.currentTarget.value as ItemState["fields"]["visibility"] })}
        />
        <Field
          label="Language"
          name={`${k}-language`}
          value={f.language}
          list={`${k}-languages`}
          maxLength={35}
          pattern="[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}"
          hint="Optional: en, fr, pt-BR…"
          disabled={locked}
          onInput={(e) => item.setFields({ language: e.currentTarget.value })}
        />
        <datalist id={`${k}-languages`}>
          {LANGUAGES.map(([code, label]) => (
            <option key={code} value={code}>
              {label}
            </option>
          ))}
        </datalist>
      </div>
      <div class="row">
        <button type="submit">{s.previous ? "Resume upload" : "Upload"}</button>
        <button type="button" class="secondary" onClick={() => removeItem(item)}>
          Remove
        </button>
      </div>
    </form>
  );
}

function Sending(props: { item: UploadItem; s: ItemState }) {
  const { item, s } = props;
  const percent = percentOf(s.sent, s.total);
  const numbers = [pct(percent), `${formatSize(s.sent)} of ${formatSize(s.total)}`];
  if (s.phase === "uploading") {
    numbers.push(s.rate !== null ? formatRate(s.rate) : "measuring speed…");
    if (s.eta !== null) numbers.push(`${formatEta(s.eta)} left`);
  }
  const phase =
    s.phase === "waiting"
      ? `Waiting: ${MAX_PARALLEL} files are sent at a time`
      : s.phase === "starting"
        ? s.previous || s.resumedFrom !== null || s.uploadUrl
          ? "Resuming…"
          : "Starting…"
        : s.phase === "uploading"
          ? s.resumedFrom
            ? `Uploading (resumed at ${pct(percentOf(s.resumedFrom, s.total))})`
            : "Uploading"
          : s.phase === "paused"
            ? `Paused at ${pct(percent)}`
            : "Upload stopped";
  return (
    <div class="upload-status">
      {s.phase !== "failed" && (
        <>
          <progress class="progress" max={100} value={percent} aria-label={`Upload of ${item.file.name}`} />
          <p class="upload-numbers">{numbers.join(" · ")}</p>
        </>
      )}
      <p class="upload-phase" role="status">
        {s.phase === "failed" ? "" : phase}
      </p>
      {s.phase === "failed" && (
        <p class="error" role="alert">
          {s.error}
        </p>
      )}
      <div class="row">
        {(s.phase === "uploading" || s.phase === "starting") && (
          <button type="button" class="secondary" onClick={() => item.pause()} disabled={s.phase === "starting" && !s.uploadUrl}>
            Pause
          </button>
        )}
        {s.phase === "paused" && (
          <button type="button" onClick={() => item.resume()}>
            Resume
          </button>
        )}
        {s.phase === "failed" && s.retryable && (
          <button type="button" onClick={() => item.enqueue()}>
            Try again
          </button>
        )}
        {s.phase === "failed" ? (
          <button type="button" class="secondary" onClick={() => removeItem(item)}>
            Remove
          </button>
        ) : (
          <button type="button" class="danger" onClick={() => void cancelItem(item)} disabled={s.phase === "starting" && !s.uploadUrl && !s.previous}>
            Cancel
          </button>
        )}
      </div>
    </div>
  );
}

function ServerSide(props: { item: UploadItem; s: ItemState }) {
  const { item, s } = props;
  const live = s.server ? describeLive(s.server) : null;
  // The last byte is in; the server's events have not said more yet.
  const waiting = !live || s.server?.status === "uploading";
  const phase = waiting ? "Upload complete. Checking the file…" : live.phase;
  return (
    <div class="upload-status">
      {live && !waiting && live.percent !== null && <progress class="progress" max={100} value={live.percent} aria-label={`Conversion of ${item.file.name}`} />}
      <p class="upload-phase" role="status">
        {phase}
      </p>
      {live && !waiting && live.detail && !live.failed && <p class="upload-numbers">{live.detail}</p>}
      {live?.failed && (
        <p class="error" role="alert">
          {live.detail}
        </p>
      )}
      <div class="row">
        {s.server?.status === "ready" && s.videoId && (
          <a class="button" href={href("watch", s.videoId)}>
            Watch “{s.fields.title || item.file.name}”
          </a>
        )}
        {s.server?.playable && s.server.status !== "ready" && s.videoId && (
          <a class="button secondary" href={href("watch", s.videoId)}>
            Watch while it converts
          </a>
        )}
        {s.videoId && (
          <a class="button secondary" href={href("my-videos")}>
            Edit in My videos
          </a>
        )}
        {live?.failed && (
          <button type="button" class="secondary" onClick={() => removeItem(item)}>
            Remove
          </button>
        )}
      </div>
    </div>
  );
}
