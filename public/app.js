// vidflux web client: plain ES module, no build step. Hash routes: #/ (catalogue), #/login,
// #/upload, #/watch/<id>. DOM is built with createElement/textContent only (no innerHTML), and
// nothing runs inline, so the page works under the app's CSP (script-src 'self'). Every API call
// goes through api.js, typed by the OpenAPI document (`npm run typecheck` checks this file).
import { ApiError, createApi } from "./api.js";

// the vendor bundles' globals (classic scripts loaded before this module)
const { Hls, tus } = /** @type {any} */ (window);
const main = document.getElementById("main");
const nav = document.getElementById("nav");
const SESSION_KEY = "vidflux.session";
const UPLOAD_ROLES = ["uploader", "moderator", "admin"];
const EVENT_TYPES = ["snapshot", "upload", "status", "queued", "processing", "playable", "retrying", "deleted"];

// ---- small helpers ---------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

const pad = (n) => String(n).padStart(2, "0");
function fmtTime(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return "–";
  const t = Math.round(s);
  const hh = Math.floor(t / 3600);
  return hh ? `${hh}:${pad(Math.floor((t % 3600) / 60))}:${pad(t % 60)}` : `${Math.floor(t / 60)}:${pad(t % 60)}`;
}
function fmtBytes(n) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
const fmtBitrate = (b) => (b ? `${Math.round(b / 1000)} kb/s` : "–");
const langName = (code) => code || "unknown";

/** A readable message, with per-field validation details when the API gave some. */
function describe(err) {
  const d = err instanceof ApiError ? err.details : null;
  if (Array.isArray(d) && d.length) return `${err.message} ${d.map((x) => `${x.field}: ${x.message}`).join("; ")}`;
  return err?.message ?? String(err);
}

// ---- session: short-lived access token in localStorage, refresh token in an httpOnly cookie ---

function loadSession() {
  try {
    return JSON.parse(localStorage.getItem(SESSION_KEY) ?? "null");
  } catch {
    return null;
  }
}
let session = loadSession();

function setSession(s) {
  session = s ? { access: s.access, user: s.user ?? session?.user } : null;
  if (session) localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else localStorage.removeItem(SESSION_KEY);
  renderNav();
}

function jwtExp(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(window.atob(part)).exp ?? null;
  } catch {
    return null;
  }
}

const csrfCookie = () => document.cookie.split("; ").find((c) => c.startsWith("vidflux_csrf="))?.slice(13) ?? "";

/** Calls without the session's token (the session plumbing itself: refresh, logout). */
const bare = createApi((url, init) => fetch(url, init));

let refreshing = null;
/** Rotates the refresh cookie (double-submit CSRF header); signs out when that fails. */
function refreshSession() {
  refreshing ??= bare("post", "/api/auth/token/refresh/", { body: {}, headers: { "x-csrf-token": csrfCookie() } })
    .then((pair) => {
      setSession({ access: pair.access });
      return true;
    })
    .catch(() => {
      setSession(null);
      return false;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** The access token, refreshed first when it expires within 30 s. */
async function freshToken() {
  const exp = session && jwtExp(session.access);
  if (exp && exp * 1000 - Date.now() < 30_000) await refreshSession();
  return session?.access ?? null;
}

/** Calls with the session's bearer token, refreshed first when it is about to expire. */
const api = createApi(async (url, init) => {
  const send = async () => {
    const token = await freshToken();
    const headers = new Headers(init.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    return fetch(url, { ...init, headers });
  };
  const res = await send();
  // A refused token: refresh once; if that fails the session is gone and the call is retried anonymously.
  if (res.status === 401 && session) return (await refreshSession()) || !session ? send() : res;
  return res;
});

/** `next`/`previous` links are absolute; follow them on this origin. */
const sameOrigin = (u) => {
  const x = new URL(u, window.location.href);
  return x.pathname + x.search;
};

// ---- live events (SSE) -----------------------------------------------------------------------

/** Follows a video's events; EventSource reconnects by itself, a refused token gets a fresh one. */
function follow(id, onEvent) {
  let es = null;
  let lastSeq = null;
  let closed = false;
  const open = async () => {
    const token = await freshToken();
    if (closed || !token) return;
    const resume = lastSeq === null ? "" : `&last_event_id=${lastSeq}`;
    es = new EventSource(`/api/videos/${id}/events/?token=${encodeURIComponent(token)}${resume}`);
    for (const type of EVENT_TYPES) {
      es.addEventListener(type, (e) => {
        const data = JSON.parse(e.data);
        lastSeq = data.seq;
        onEvent(data);
        if (type === "deleted") stop();
      });
    }
    es.addEventListener("error", () => {
      if (es.readyState === EventSource.CLOSED && !closed) setTimeout(() => void open(), 2000);
    });
  };
  const stop = () => {
    closed = true;
    es?.close();
  };
  void open();
  return stop;
}

/** The upload/processing state of a video as a progress bar and one line of text. */
function statusPanel(videoId) {
  const bar = h("progress", { max: 100, value: 0 });
  const line = h("p", { class: "status-line" }, "Waiting…");
  const watch = h("a", { href: `#/watch/${videoId ?? ""}`, class: "button", hidden: true }, "Watch");
  const el = h("div", { class: "status" }, bar, line, watch);
  const st = { status: "uploading", playable: false, progress: null, upload: null, failure: null, note: null };
  const render = () => {
    const p = st.progress ?? {};
    let text;
    let pct = null;
    switch (st.status) {
      case "uploading": {
        const u = st.upload;
        pct = u?.percent ?? p.percent ?? 0;
        text = `Uploading ${pct.toFixed(1)}%`;
        if (u?.rate_bytes_per_s) text += ` · ${fmtBytes(u.rate_bytes_per_s)}/s`;
        if (u?.eta_s !== null && u?.eta_s !== undefined) text += ` · ETA ${fmtTime(u.eta_s)}`;
        break;
      }
      case "validating":
        text = "Validating the file…";
        break;
      case "queued":
        text = p.queue_position ? `Queued (position ${p.queue_position})` : "Queued";
        break;
      case "processing":
        pct = p.percent ?? 0;
        text = `Processing${p.step ? ` (${p.step})` : ""} ${pct.toFixed(1)}%${p.eta_s !== null && p.eta_s !== undefined ? ` · ETA ${fmtTime(p.eta_s)}` : ""}`;
        break;
      case "ready":
        pct = 100;
        text = "Ready";
        break;
      case "failed":
        text = `Failed: ${st.failure ?? "unknown error"}`;
        break;
      default:
        text = st.status;
    }
    if (st.playable && st.status !== "ready") text += " · playable now";
    if (st.note) text += ` · ${st.note}`;
    bar.hidden = pct === null;
    if (pct !== null) bar.value = pct;
    line.textContent = text;
    line.className = `status-line ${st.status}`;
    watch.hidden = !st.playable || !videoId;
  };
  const update = (e) => {
    switch (e.type) {
      case "snapshot":
        Object.assign(st, { status: e.status, playable: e.playable, progress: e.progress, failure: e.failure_message ?? e.failure_code });
        break;
      case "upload":
        st.upload = e;
        break;
      case "status":
        Object.assign(st, { status: e.status, playable: e.playable ?? st.playable, failure: e.failure_message ?? e.failure_code ?? null, note: null });
        if (e.queue_position !== undefined) st.progress = { ...st.progress, queue_position: e.queue_position };
        break;
      case "queued":
        st.progress = { ...st.progress, queue_position: e.queue_position };
        break;
      case "processing":
        Object.assign(st, { status: "processing", progress: { step: e.step, percent: e.percent, eta_s: e.eta_s }, note: null });
        break;
      case "playable":
        st.playable = true;
        break;
      case "retrying":
        st.note = `retrying after: ${e.message}`;
        break;
      case "deleted":
        Object.assign(st, { status: "failed", failure: "the video was deleted" });
        break;
    }
    render();
  };
  const setVideo = (id) => {
    videoId = id;
    watch.setAttribute("href", `#/watch/${id}`);
  };
  render();
  return { el, update, setVideo, state: st };
}

// ---- router ----------------------------------------------------------------------------------

let current = null;
async function route() {
  if (current) {
    current.left = true;
    for (const fn of current.cleanup.splice(0)) fn();
  }
  const [, name = "", arg] = window.location.hash.split("/");
  const view = { root: h("section", { class: `view view-${name || "home"}` }), cleanup: [], left: false };
  view.onLeave = (fn) => (view.left ? fn() : view.cleanup.push(fn));
  current = view;
  main.replaceChildren(view.root);
  try {
    await (VIEWS[name] ?? catalogueView)(view, arg && decodeURIComponent(arg));
  } catch (err) {
    view.root.append(h("p", { class: "error" }, describe(err)));
  }
}

function renderNav() {
  const u = session?.user;
  const signOut = async () => {
    await bare("post", "/api/auth/logout/", { body: {}, headers: { "x-csrf-token": csrfCookie() } }).catch(() => null);
    setSession(null);
    window.location.hash = "#/";
  };
  nav.replaceChildren(
    h("a", { href: "#/" }, "Videos"),
    ...(u
      ? [UPLOAD_ROLES.includes(u.role) ? h("a", { href: "#/upload" }, "Upload") : "", h("span", { class: "who" }, u.display_name || u.username), h("button", { type: "button", class: "link", onclick: signOut }, "Sign out")]
      : [h("a", { href: "#/login" }, "Sign in")]),
  );
}

// ---- views -----------------------------------------------------------------------------------

async function catalogueView(view) {
  const grid = h("div", { class: "grid" });
  const more = h("button", { type: "button", class: "more", hidden: true }, "Load more");
  view.root.append(h("h1", {}, "Videos"), grid, more);
  let next = null;
  const load = async () => {
    // the first page, then the `next` links the API gives (same operation, same type)
    const page = await api("get", "/api/videos/", next ? { url: next } : { query: { limit: 24 } });
    grid.append(...page.results.map(card));
    next = page.next ? sameOrigin(page.next) : null;
    more.hidden = !next;
    if (!grid.children.length) grid.append(h("p", { class: "muted" }, "No videos yet."));
  };
  more.addEventListener("click", () => void load().catch((err) => more.replaceWith(h("p", { class: "error" }, describe(err)))));
  await load();
}

function card(v) {
  const img = v.poster ? h("img", { src: v.poster, alt: "", loading: "lazy" }) : null;
  img?.addEventListener("error", () => img.remove());
  return h(
    "a",
    { class: "card", href: `#/watch/${v.id}` },
    h("div", { class: "thumb" }, img, v.duration !== null ? h("span", { class: "duration" }, fmtTime(v.duration)) : null, v.status !== "ready" ? h("span", { class: `badge ${v.status}` }, v.status) : null),
    h("div", { class: "title" }, v.title),
    h("div", { class: "muted" }, `${v.owner.display_name || v.owner.username} · ${v.views} view${v.views === 1 ? "" : "s"}`),
  );
}

function form(fields, submitLabel, onSubmit) {
  const msg = h("p", { class: "error", role: "alert" });
  const button = h("button", { type: "submit" }, submitLabel);
  const el = h("form", { class: "form" }, fields, button, msg);
  el.addEventListener("submit", async (e) => {
    e.preventDefault();
    msg.textContent = "";
    button.disabled = true;
    try {
      await onSubmit(Object.fromEntries(new FormData(el)), el);
    } catch (err) {
      msg.textContent = describe(err);
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

const field = (label, name, attrs = {}) => h("label", {}, label, h(attrs.tag ?? "input", { name, required: true, ...attrs, tag: null }));

function loginView(view) {
  const signedIn = (r) => {
    setSession(r);
    window.location.hash = "#/";
  };
  const signIn = form(
    [field("Username or email", "username", { autocomplete: "username" }), field("Password", "password", { type: "password", autocomplete: "current-password" })],
    "Sign in",
    async (f) => signedIn(await api("post", "/api/auth/login/", { body: { username: String(f.username), password: String(f.password), cookie: true } })),
  );
  const register = form(
    [
      field("Username", "username", { autocomplete: "username" }),
      field("Email", "email", { type: "email", autocomplete: "email" }),
      field("Password", "password", { type: "password", autocomplete: "new-password", minlength: 8 }),
    ],
    "Create account",
    async (f) => signedIn(await api("post", "/api/auth/register/", { body: { username: String(f.username), email: String(f.email), password: String(f.password), cookie: true } })),
  );
  view.root.append(h("div", { class: "columns" }, h("div", {}, h("h1", {}, "Sign in"), signIn), h("div", {}, h("h1", {}, "Register"), register)));
}

function uploadView(view) {
  view.root.append(h("h1", {}, "Upload a video"));
  if (!session) return view.root.append(h("p", {}, h("a", { href: "#/login" }, "Sign in"), " to upload."));
  if (!UPLOAD_ROLES.includes(session.user?.role)) return view.root.append(h("p", { class: "error" }, "Your account may not upload videos."));
  const panel = statusPanel(null);
  const controls = h("div", { class: "row" });
  panel.el.hidden = true;
  const el = form(
    [
      field("File", "file", { type: "file", accept: "video/*" }),
      field("Title", "title", { maxlength: 200, required: false }),
      field("Description", "description", { tag: "textarea", rows: 3, maxlength: 5000, required: false }),
      h("label", {}, "Visibility", h("select", { name: "visibility" }, ["public", "unlisted", "private"].map((v) => h("option", { value: v }, v)))),
    ],
    "Upload",
    async (f, formEl) => {
      const file = f.file;
      formEl.hidden = true;
      panel.el.hidden = false;
      let stopEvents = null;
      // Client-side rate over the last 3 s, shown until the server's `upload` events arrive.
      let server = null;
      const samples = [];
      const upload = new tus.Upload(file, {
        endpoint: "/api/videos/upload/",
        chunkSize: 16 * 1024 * 1024,
        retryDelays: [0, 1000, 3000, 5000, 10000],
        removeFingerprintOnSuccess: true,
        metadata: { filename: file.name, filetype: file.type, title: f.title || file.name, description: f.description, visibility: f.visibility },
        // Every request carries a fresh token: a long upload outlives one access token.
        onBeforeRequest: async (req) => {
          const token = await freshToken();
          if (token) req.setHeader("Authorization", `Bearer ${token}`);
        },
        onAfterResponse: (_req, res) => {
          const id = res.getHeader("Video-Id");
          if (id && !stopEvents) {
            panel.setVideo(id);
            stopEvents = follow(id, (e) => {
              if (e.type === "upload") server = window.performance.now();
              panel.update(e);
            });
            view.onLeave(stopEvents);
          }
        },
        onProgress: (sent, total) => {
          const now = window.performance.now();
          samples.push([now, sent]);
          while (samples.length > 2 && now - samples[0][0] > 3000) samples.shift();
          if (panel.state.status !== "uploading" || (server !== null && now - server < 2000)) return;
          const [t0, b0] = samples[0];
          const rate = now > t0 ? ((sent - b0) * 1000) / (now - t0) : 0;
          panel.update({ type: "upload", percent: (sent * 100) / total, rate_bytes_per_s: rate, eta_s: rate > 0 ? (total - sent) / rate : null });
        },
        onSuccess: () => controls.replaceChildren(h("button", { type: "button", onclick: () => void route() }, "Upload another")),
        onError: (err) => {
          let message = err.message;
          try {
            message = JSON.parse(err.originalResponse?.getBody() ?? "").error.message;
          } catch {
            // not an API error body: keep tus-js-client's message
          }
          panel.update({ type: "status", status: "failed", failure_message: message });
          controls.replaceChildren(h("button", { type: "button", onclick: () => void route() }, "Try again"));
        },
      });
      const pause = h("button", { type: "button" }, "Pause");
      pause.addEventListener("click", () => {
        const paused = pause.textContent === "Resume";
        if (paused) upload.start();
        else void upload.abort();
        pause.textContent = paused ? "Pause" : "Resume";
      });
      const cancel = h("button", { type: "button", class: "danger" }, "Cancel");
      cancel.addEventListener("click", () => {
        void upload.abort(true);
        stopEvents?.();
        window.location.hash = "#/";
      });
      controls.replaceChildren(pause, cancel);
      view.onLeave(() => void upload.abort());
      const previous = await upload.findPreviousUploads();
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    },
  );
  view.root.append(el, panel.el, controls);
}

async function watchView(view, id) {
  const d = await api("get", "/api/videos/{id}/", { params: { id } });
  const video = h("video", { controls: true, playsinline: true, preload: "metadata", poster: d.poster });
  const selects = { quality: h("select", { "aria-label": "Quality" }), audio: h("select", { "aria-label": "Audio language" }), subs: h("select", { "aria-label": "Subtitles" }) };
  const chapters = h("ol", { class: "chapters" }, d.chapters.map((c) => h("li", {}, h("button", { type: "button", class: "link", onclick: () => ((video.currentTime = c.start), void video.play()) }, `${fmtTime(c.start)} ${c.title}`))));
  const published = d.published ? new Date(d.published).toLocaleDateString() : "not published";
  view.root.append(
    h("h1", {}, d.title),
    h("p", { class: "muted" }, `${d.owner.display_name || d.owner.username} · ${d.views} view${d.views === 1 ? "" : "s"} · ${published}`),
    h("div", { class: "player" }, video),
    h("div", { class: "row controls" }, h("label", {}, "Quality ", selects.quality), h("label", {}, "Audio ", selects.audio), h("label", {}, "Subtitles ", selects.subs)),
    h("div", { class: "columns" }, h("div", {}, h("p", { class: "description" }, d.description), d.chapters.length ? [h("h2", {}, "Chapters"), chapters] : null), infoBlock(d)),
  );
  video.addEventListener("timeupdate", () => {
    const i = d.chapters.findLastIndex((c) => video.currentTime >= c.start);
    [...chapters.children].forEach((li, j) => li.classList.toggle("current", i === j));
  });
  if (d.playable) return startPlayer(view, video, d, selects);
  const panel = statusPanel(null);
  video.parentElement.replaceWith(panel.el);
  view.root.querySelector(".controls").hidden = true;
  panel.update({ type: "snapshot", status: d.status, playable: false, progress: d.progress, failure_message: d.failure_message, failure_code: d.failure_code });
  if (session?.user && (session.user.id === d.owner.id || ["moderator", "admin"].includes(session.user.role))) {
    // When it becomes playable, the view reloads with the player.
    const stop = follow(d.id, (e) => (e.playable ? (stop(), void route()) : panel.update(e)));
    view.onLeave(stop);
  }
}

function infoBlock(d) {
  const i = d.info;
  const rows = [
    ["Duration", fmtTime(d.duration ?? i.duration_seconds)],
    ["Resolution", i.width ? `${i.width}×${i.height}` : "–"],
    ["Frame rate", i.fps ? `${i.fps} fps` : "–"],
    ["Video codec", i.video_codec ?? "–"],
    ["Container", i.container ?? "–"],
    ["Bitrate", fmtBitrate(i.bitrate)],
    ["Size", i.size],
    ["Audio", i.languages.join(", ") || "–"],
    ["Subtitles", i.subtitle_languages.join(", ") || "none"],
  ];
  const formats = d.formats.map((f) => h("li", {}, f.mp4_url ? h("a", { href: f.mp4_url }, f.quality) : f.quality, ` ${f.width}×${f.height} · ${fmtBitrate(f.bitrate)} · ${f.size}`));
  return h("div", { class: "info" }, h("h2", {}, "Info"), h("dl", {}, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])), formats.length ? [h("h2", {}, "Formats"), h("ul", {}, formats)] : null);
}

function fill(select, options, selected) {
  select.replaceChildren(...options.map(([value, label]) => h("option", { value, selected: String(value) === String(selected) }, label)));
  select.disabled = options.length < 2;
}

function startPlayer(view, video, d, s) {
  if (Hls?.isSupported() && d.hls_url) {
    const hls = new Hls();
    view.onLeave(() => hls.destroy());
    const levels = () => fill(s.quality, [[-1, hls.autoLevelEnabled && hls.currentLevel >= 0 ? `Auto (${hls.levels[hls.currentLevel].height}p)` : "Auto"], ...hls.levels.map((l, i) => [i, `${l.height}p`])], hls.autoLevelEnabled ? -1 : hls.currentLevel);
    const audio = () => fill(s.audio, hls.audioTracks.map((t, i) => [i, t.name || langName(t.lang)]), hls.audioTrack);
    const subs = () => fill(s.subs, [[-1, "Off"], ...hls.subtitleTracks.map((t, i) => [i, t.name || langName(t.lang)])], hls.subtitleTrack);
    hls.on(Hls.Events.MANIFEST_PARSED, levels);
    hls.on(Hls.Events.LEVEL_SWITCHED, levels);
    hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, audio);
    hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, audio);
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, subs);
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (!data.fatal) return;
      // hls.js's documented recovery: reload on network errors, rebuild the buffer on media errors.
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
      else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
      else view.root.append(h("p", { class: "error" }, `Playback failed: ${data.details}`));
    });
    s.quality.addEventListener("change", () => (hls.currentLevel = Number(s.quality.value)));
    s.audio.addEventListener("change", () => (hls.audioTrack = Number(s.audio.value)));
    s.subs.addEventListener("change", () => {
      hls.subtitleTrack = Number(s.subs.value);
      hls.subtitleDisplay = hls.subtitleTrack >= 0;
    });
    hls.loadSource(d.hls_url);
    hls.attachMedia(video);
    return;
  }
  // Native playback: HLS where the browser has it (Safari), else the progressive MP4s.
  const sources = [...(d.hls_url && video.canPlayType("application/vnd.apple.mpegurl") ? [["hls", "Auto", d.hls_url]] : []), ...d.formats.filter((f) => f.mp4_url).map((f) => [f.quality, f.quality, f.mp4_url])];
  if (!sources.length) return view.root.append(h("p", { class: "error" }, "This browser cannot play this video."));
  fill(s.quality, sources.map(([v, label]) => [v, label]), sources[0][0]);
  video.src = sources[0][2];
  s.quality.addEventListener("change", () => {
    const t = video.currentTime;
    video.src = sources.find(([v]) => v === s.quality.value)[2];
    video.addEventListener("loadedmetadata", () => ((video.currentTime = t), void video.play()), { once: true });
  });
  for (const t of d.subtitles) video.append(h("track", { kind: "subtitles", srclang: t.lang, label: t.name, src: t.url }));
  video.addEventListener("loadedmetadata", () => {
    const tracks = [...(video.audioTracks ?? [])];
    fill(s.audio, tracks.map((t, i) => [i, t.label || langName(t.language)]), Math.max(0, tracks.findIndex((t) => t.enabled)));
    const texts = [...video.textTracks].filter((t) => t.kind === "subtitles" || t.kind === "captions");
    fill(s.subs, [[-1, "Off"], ...texts.map((t, i) => [i, t.label || langName(t.language)])], texts.findIndex((t) => t.mode === "showing"));
  });
  s.audio.addEventListener("change", () => [...(video.audioTracks ?? [])].forEach((t, i) => (t.enabled = i === Number(s.audio.value))));
  s.subs.addEventListener("change", () => [...video.textTracks].filter((t) => t.kind === "subtitles" || t.kind === "captions").forEach((t, i) => (t.mode = i === Number(s.subs.value) ? "showing" : "disabled")));
}

const VIEWS = { "": catalogueView, login: loginView, upload: uploadView, watch: watchView };

renderNav();
window.addEventListener("hashchange", () => void route());
void route();
