/**
 * My videos (`#/my-videos`, uploaders): the signed-in user's videos in every status, live status
 * for the unfinished ones, the failure reason in words; edit, delete, subtitles, poster choice,
 * and "Reprocess" for admins.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Paths } from "../api/client.js";
import { RequireRole } from "../account/guard.js";
import { api, can, me } from "../api/session.js";
import { applyEvent, followVideo, initialState, isSettled, type VideoLiveState } from "../api/video-events.js";
import { href } from "../router.js";
import { Empty, ErrorBox, Field, Loading, Notice, Page, Select, TextArea, useLoad, useSubmit } from "../ui/components.js";
import { formatDate, formatDuration } from "../ui/format.js";
import { usePaged } from "../ui/paged.js";
import { describeFailure } from "../upload/failures.js";
import { sendForm } from "../api/send-form.js";
import { describeLive, STATUS_NAMES } from "../upload/status-text.js";

type VideoPage = Paths["/api/videos/"]["get"]["responses"][200]["content"]["application/json"];
type Item = VideoPage["results"][number];
type Status = Item["status"];
type Visibility = Item["visibility"];
type Detail = Paths["/api/videos/{id}/"]["get"]["responses"][200]["content"]["application/json"];
type Track = Detail["subtitles"][number];

const VISIBILITY: [Visibility, string][] = [
  ["public", "Public"],
  ["unlisted", "Unlisted"],
  ["private", "Private"],
];
const VISIBILITY_NAME: Record<Visibility, string> = { public: "Public", unlisted: "Unlisted", private: "Private" };
const FILTERS: [string, string][] = [["", "All"], ...(["uploading", "validating", "queued", "processing", "ready", "failed"] as Status[]).map((s): [string, string] => [s, STATUS_NAMES[s] ?? s])];
const LANGUAGE_PATTERN = "[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}";

const unfinished = (s: Status): boolean => !isSettled(s);
/** Media URLs of private videos carry a playback token; the file is what identifies a candidate. */
const withoutQuery = (u: string | null | undefined): string => (u ?? "").split("?")[0]!;

export default function MyVideosPage() {
  return (
    <RequireRole title="My videos" right="upload">
      <MyVideos ownerId={me.value?.id ?? ""} />
    </RequireRole>
  );
}

function MyVideos(props: { ownerId: string }) {
  const [status, setStatus] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const list = usePaged(
    () => api("get", "/api/videos/", { query: { owner: props.ownerId, limit: 20, ...(status ? { status: status as Status } : {}) } }),
    (url) => api("get", "/api/videos/", { url }),
    [props.ownerId, status],
  );
  const { items, next } = list;
  const update = (id: string, patch: Partial<Item>) => list.patch((x) => (x.id === id ? { ...x, ...patch } : x));
  const removed = (v: Item) => {
    list.drop((x) => x.id !== v.id);
    setNotice(`Deleted “${v.title}”.`);
    if (open === v.id) setOpen(null);
  };

  return (
    <Page
      title="My videos"
      wide
      actions={
        <a class="button" href={href("upload")}>
          Upload videos
        </a>
      }
    >
      <div class="my-videos-filter">
        <Select label="Show" name="my-videos-status" options={FILTERS} value={status} onChange={(e) => setStatus(e.currentTarget.value)} />
      </div>
      {notice && <Notice>{notice}</Notice>}
      <ErrorBox error={list.error} />
      {list.loading && !items.length ? (
        <Loading />
      ) : !items.length && !list.error ? (
        <Empty>
          {status ? "No video in this state." : "You have not uploaded any video yet."} <a href={href("upload")}>Upload one</a>.
        </Empty>
      ) : (
        <ul class="my-videos" aria-label="Your videos">
          {items.map((v) => (
            <li key={v.id}>
              <VideoRow v={v} open={open === v.id} onToggle={() => setOpen(open === v.id ? null : v.id)} onChange={(p) => update(v.id, p)} onDeleted={() => removed(v)} />
            </li>
          ))}
        </ul>
      )}
      <ErrorBox error={list.moreError} />
      {next && (
        <button type="button" class="secondary" onClick={() => void list.loadMore()} disabled={list.loadingMore}>
          {list.loadingMore ? "Loading…" : "Load more"}
        </button>
      )}
    </Page>
  );
}

function VideoRow(props: { v: Item; open: boolean; onToggle: () => void; onChange: (p: Partial<Item>) => void; onDeleted: () => void }) {
  const { v } = props;
  const t = `v-${v.id}`;
  const playable = v.status === "ready";
  /** A settled video: its list fields again (poster, duration) from the detail. */
  const refresh = async () => {
    const d = await api("get", "/api/videos/{id}/", { params: { id: v.id } });
    props.onChange({ status: d.status, poster: d.poster, duration: d.duration, title: d.title, visibility: d.visibility });
  };
  return (
    <article class={`my-video status-${v.status}`} aria-labelledby={`${t}-title`}>
      <div class="my-video-thumb">{v.poster ? <img src={v.poster} alt="" loading="lazy" /> : <span class="hint">No poster yet</span>}</div>
      <div class="my-video-body">
        <h2 id={`${t}-title`} class="my-video-title">
          {playable ? <a href={href("watch", v.id)}>{v.title}</a> : v.title}
        </h2>
        <p class="hint">
          {STATUS_NAMES[v.status] ?? v.status} · {VISIBILITY_NAME[v.visibility]} · uploaded {formatDate(v.created)}
          {v.duration !== null ? ` · ${formatDuration(v.duration)}` : ""}
        </p>
        {unfinished(v.status) && <LiveStatus id={v.id} title={v.title} status={v.status} onSettled={() => void refresh().catch(() => undefined)} onGone={props.onDeleted} />}
        {v.status === "failed" && <FailureReason id={v.id} />}
        <div class="row">
          <button type="button" class="secondary" aria-expanded={props.open} aria-controls={`${t}-manage`} onClick={props.onToggle}>
            {props.open ? "Close" : "Manage"}
            <span class="visually-hidden"> “{v.title}”</span>
          </button>
          <DeleteButton v={v} onDeleted={props.onDeleted} />
          {v.status === "failed" && (
            <a class="button secondary" href={href("upload")}>
              Upload again
            </a>
          )}
        </div>
        {props.open && (
          <div id={`${t}-manage`} class="my-video-manage">
            <Manage id={v.id} onChange={props.onChange} />
          </div>
        )}
      </div>
    </article>
  );
}

/** The pipeline of an unfinished video as its events tell it. */
function LiveStatus(props: { id: string; title: string; status: Status; onSettled: (s: VideoLiveState) => void; onGone: () => void }) {
  const [st, setSt] = useState<VideoLiveState>(() => initialState({ status: props.status }));
  const settled = useRef(false);
  useEffect(() => followVideo(props.id, (e) => setSt((s) => applyEvent(s, e)), { onEnd: (why) => why === "deleted" && props.onGone() }), [props.id]);
  useEffect(() => {
    if (isSettled(st.status) && !settled.current) {
      settled.current = true;
      props.onSettled(st);
    }
  }, [st.status]);
  const text = describeLive(st);
  return (
    <div class="live-status">
      {text.percent !== null && <progress class="progress" max={100} value={text.percent} aria-label={`${text.bar} of “${props.title}”`} />}
      <p role="status" class="upload-phase">
        {text.phase}
      </p>
      {text.detail && !text.failed && <p class="upload-numbers">{text.detail}</p>}
      {st.status === "uploading" && <p class="hint">To finish the upload, pick the same file again on the Upload page.</p>}
    </div>
  );
}

function FailureReason(props: { id: string }) {
  const d = useLoad(() => api("get", "/api/videos/{id}/", { params: { id: props.id } }), [props.id]);
  if (!d.data) return <ErrorBox error={d.error} />;
  return (
    <p class="error">
      {describeFailure(d.data.failure_code, d.data.failure_message)} This video cannot be played: delete it, then upload the file again (or a fixed one).
    </p>
  );
}

function DeleteButton(props: { v: Item; onDeleted: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const keep = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) keep.current?.focus();
  }, [confirming]);
  if (!confirming) {
    return (
      <button type="button" class="danger" onClick={() => setConfirming(true)}>
        Delete<span class="visually-hidden"> “{props.v.title}”</span>
      </button>
    );
  }
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await api("delete", "/api/videos/{id}/", { params: { id: props.v.id } });
      props.onDeleted();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <div class="confirm" role="group" aria-label={`Delete “${props.v.title}”?`}>
      <span>Delete “{props.v.title}” with all its files? This cannot be undone.</span>
      <button type="button" class="danger" onClick={() => void remove()} disabled={busy}>
        Delete for good
      </button>
      <button type="button" class="secondary" ref={keep} onClick={() => setConfirming(false)} disabled={busy}>
        Keep it
      </button>
      <ErrorBox error={error} />
    </div>
  );
}

/** Details, poster, subtitles and reprocessing of one video. */
function Manage(props: { id: string; onChange: (p: Partial<Item>) => void }) {
  const d = useLoad(() => api("get", "/api/videos/{id}/", { params: { id: props.id } }), [props.id]);
  if (d.loading && !d.data) return <Loading />;
  if (!d.data) return <ErrorBox error={d.error} />;
  const changed = (next: Detail) => {
    d.set(next);
    props.onChange({ title: next.title, visibility: next.visibility, poster: next.poster, status: next.status });
  };
  return (
    <>
      <EditForm d={d.data} onSaved={changed} />
      <PosterPicker d={d.data} onSaved={changed} />
      <Subtitles d={d.data} reload={d.reload} />
      {can("admin") && <Reprocess d={d.data} onDone={changed} />}
    </>
  );
}

function EditForm(props: { d: Detail; onSaved: (d: Detail) => void }) {
  const { d } = props;
  const p = `e-${d.id}`;
  const [saved, setSaved] = useState(false);
  const { busy, error, onSubmit } = useSubmit(async (form, el) => {
    setSaved(false);
    const comments = (el.elements.namedItem(`${p}-comments`) as HTMLInputElement | null)?.checked ?? d.comments_enabled;
    const language = (form[`${p}-language`] ?? "").trim();
    const next = await api("patch", "/api/videos/{id}/", {
      params: { id: d.id },
      body: {
        title: form[`${p}-title`] ?? d.title,
        description: form[`${p}-description`] ?? d.description,
        visibility: (form[`${p}-visibility`] ?? d.visibility) as Visibility,
        language: language || null,
        comments_enabled: comments,
      },
    });
    props.onSaved(next);
    setSaved(true);
  });
  return (
    <section aria-labelledby={`${p}-h`}>
      <h3 id={`${p}-h`}>Details</h3>
      <form onSubmit={onSubmit} onInput={() => setSaved(false)}>
        <Field label="Title" name={`${p}-title`} defaultValue={d.title} required maxLength={200} />
        <TextArea label="Description" name={`${p}-description`} defaultValue={d.description} maxLength={5000} rows={4} />
        <div class="upload-form-row">
          <Select label="Visibility" name={`${p}-visibility`} options={VISIBILITY} defaultValue={d.visibility} />
          <Field label="Language" name={`${p}-language`} defaultValue={d.language ?? ""} maxLength={35} pattern={LANGUAGE_PATTERN} hint="en, fr, pt-BR… (optional)" />
        </div>
        <div class="field field-check">
          <input type="checkbox" id={`f-${p}-comments`} name={`${p}-comments`} defaultChecked={d.comments_enabled} />
          <label for={`f-${p}-comments`}>Comments on</label>
        </div>
        <div class="row">
          <button type="submit" disabled={busy}>
            {busy ? "Saving…" : "Save details"}
          </button>
        </div>
        <ErrorBox error={error} />
        {saved && <Notice>Saved.</Notice>}
      </form>
    </section>
  );
}

function PosterPicker(props: { d: Detail; onSaved: (d: Detail) => void }) {
  const { d } = props;
  const p = `p-${d.id}`;
  const candidates = d.thumbnails.candidates;
  const current = candidates.findIndex((c) => withoutQuery(c) === withoutQuery(d.poster));
  const [choice, setChoice] = useState(current);
  const [saved, setSaved] = useState(false);
  const { busy, error, onSubmit } = useSubmit(async () => {
    setSaved(false);
    props.onSaved(await api("patch", "/api/videos/{id}/", { params: { id: d.id }, body: { poster_candidate: choice } }));
    setSaved(true);
  });
  return (
    <section aria-labelledby={`${p}-h`}>
      <h3 id={`${p}-h`}>Poster</h3>
      {!candidates.length ? (
        <p class="hint">The poster choices are made during the conversion.</p>
      ) : (
        <form onSubmit={onSubmit}>
          <fieldset class="poster-choices">
            <legend>Choose the poster among frames of the video</legend>
            {candidates.map((url, i) => (
              <label key={url} class={i === choice ? "poster-choice chosen" : "poster-choice"}>
                <input type="radio" name={`${p}-poster`} value={String(i)} checked={i === choice} onChange={() => (setChoice(i), setSaved(false))} />
                <img src={url} alt="" loading="lazy" />
                <span>
                  Frame {i + 1}
                  {i === current ? " (current)" : ""}
                </span>
              </label>
            ))}
          </fieldset>
          <div class="row">
            <button type="submit" disabled={busy || choice < 0 || choice === current}>
              Use this poster
            </button>
          </div>
          <ErrorBox error={error} />
          {saved && <Notice>Poster changed.</Notice>}
        </form>
      )}
    </section>
  );
}

function Subtitles(props: { d: Detail; reload: () => void }) {
  const { d } = props;
  const p = `s-${d.id}`;
  const [notice, setNotice] = useState<string | null>(null);
  const [removeError, setRemoveError] = useState<unknown>(null);
  const { busy, error, onSubmit } = useSubmit(async (form, el) => {
    setNotice(null);
    const lang = (form[`${p}-lang`] ?? "").trim();
    const file = (el.elements.namedItem(`${p}-file`) as HTMLInputElement | null)?.files?.[0];
    if (!file) throw new Error("Choose a subtitle file (.srt or .vtt).");
    const body = new FormData();
    body.set("file", file, file.name);
    const track = await sendForm<Track>("PUT", "/api/videos/{id}/subtitles/{lang}/", { id: d.id, lang }, body);
    el.reset();
    setNotice(`${track.name} subtitles uploaded.`);
    props.reload();
  });
  const remove = async (t: Track) => {
    setNotice(null);
    setRemoveError(null);
    try {
      await api("delete", "/api/videos/{id}/subtitles/{lang}/", { params: { id: d.id, lang: t.lang } });
      setNotice(`${t.name} subtitles removed.`);
      props.reload();
    } catch (err) {
      setRemoveError(err);
    }
  };
  return (
    <section aria-labelledby={`${p}-h`}>
      <h3 id={`${p}-h`}>Subtitles</h3>
      {d.subtitles.length ? (
        <ul class="subtitle-list">
          {d.subtitles.map((t) => (
            <li key={`${t.lang}-${t.source}`}>
              {t.name} ({t.lang}), {t.source === "upload" ? "uploaded" : "from the video file"}{" "}
              <button type="button" class="secondary" onClick={() => void remove(t)}>
                Delete<span class="visually-hidden"> the {t.name} subtitles</span>
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p class="hint">No subtitles yet.</p>
      )}
      <ErrorBox error={removeError} />
      {d.status !== "ready" ? (
        <p class="hint">Subtitles can be added once the video is converted.</p>
      ) : (
        <form onSubmit={onSubmit}>
          <div class="upload-form-row">
            <Field label="Subtitle language" name={`${p}-lang`} required maxLength={35} pattern={LANGUAGE_PATTERN} hint="en, fr, pt-BR…" />
            <Field label="Subtitle file" name={`${p}-file`} type="file" accept=".srt,.vtt,text/vtt,application/x-subrip" required hint="SubRip (.srt) or WebVTT (.vtt), at most 5 MB" />
          </div>
          <div class="row">
            <button type="submit" disabled={busy}>
              {busy ? "Uploading…" : "Upload subtitles"}
            </button>
          </div>
        </form>
      )}
      <ErrorBox error={error} />
      {notice && <Notice>{notice}</Notice>}
    </section>
  );
}

function Reprocess(props: { d: Detail; onDone: (d: Detail) => void }) {
  const [done, setDone] = useState(false);
  const { busy, error, onSubmit } = useSubmit(async () => {
    props.onDone(await api("post", "/api/videos/{id}/reprocess/", { params: { id: props.d.id } }));
    setDone(true);
  });
  return (
    <section aria-labelledby={`r-${props.d.id}-h`}>
      <h3 id={`r-${props.d.id}-h`}>Reprocess</h3>
      <form onSubmit={onSubmit}>
        <p class="hint">Converts the kept original again (after a change of the ladder or a fixed encoder). The video is unavailable meanwhile.</p>
        <button type="submit" class="secondary" disabled={busy || props.d.status === "uploading" || props.d.status === "validating"}>
          Reprocess
        </button>
        <ErrorBox error={error} />
        {done && <Notice>Queued for conversion again.</Notice>}
      </form>
    </section>
  );
}
