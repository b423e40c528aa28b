/**
 * One device's link to a playback session (docs/playback.md): the WebSocket
 * `/ws/stream/{id}/?token=&device=&room=`, or — when WebSockets are blocked (some proxies, TV
 * browsers) or keep failing before the greeting — the HTTP fallback: long polling
 * `GET …/state/?since=<version>` for changes and `POST …/control/` for this device's messages.
 * Both deliver the same events, so the sync engine does not know which one runs.
 *
 * Also: reconnecting with backoff, a fresh token after a 4401 when signed in, the server clock
 * (ping/pong, or the HTTP answers' `server_time`), versions never going backwards, and messages
 * sent while (re)connecting held until the session greets again.
 *
 * Everything the browser provides (WebSocket, fetch, the clock, randomness) is passed in, so the
 * state machine is unit-tested in node with fakes and fake timers.
 */
import { clockSample, ServerClock } from "./sync-clock.js";
import {
  backoffMs,
  closeAction,
  closeError,
  FALLBACK_AFTER_FAILURES,
  parseFrame,
  type ControlMessage,
  type Greeting,
  type Member,
  type PlaybackState,
  type RemoteError,
  type SessionInfo,
} from "./remote-protocol.js";

export type Transport = "websocket" | "http";
export type Phase = "connecting" | "open" | "reconnecting" | "stopped";

export interface ConnectionStatus {
  phase: Phase;
  transport: Transport;
  /** why it stopped (or, while reconnecting, what went wrong last) */
  error: RemoteError | null;
}

export interface Credentials {
  /** `access`: the signed-in user's access token; `playback`: the video's playback token */
  kind: "access" | "playback";
  value: string;
}

export interface SocketHandlers {
  open(): void;
  message(data: string): void;
  close(code: number, reason: string): void;
}

export interface SocketHandle {
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Opens a WebSocket to `url` (may throw, as a blocked constructor does). */
export type SocketFactory = (url: string, on: SocketHandlers) => SocketHandle;

/** The browser's WebSocket behind SocketFactory. */
export function browserSocket(Ctor: typeof WebSocket): SocketFactory {
  return (url, on) => {
    const ws = new Ctor(url);
    ws.onopen = () => on.open();
    // The protocol's frames are JSON text frames (docs/playback.md); anything else is not ours.
    ws.onmessage = (e: MessageEvent) => {
      if (typeof e.data === "string") on.message(e.data);
    };
    ws.onclose = (e: CloseEvent) => on.close(e.code, e.reason);
    return { send: (d) => ws.send(d), close: (code, reason) => ws.close(code, reason) };
  };
}

export interface ConnectionEvents {
  /** on every greeting (each connect): which session this device is in */
  session(info: SessionInfo): void;
  /** the session's state, never older than one delivered before (greetings excepted: a restarted server counts from 1 again) */
  state(state: PlaybackState, by: string | null, greeting: boolean): void;
  members(members: Member[], count: number): void;
  status(status: ConnectionStatus): void;
  /** a refusal of one of this device's messages (the connection stays) */
  refused(err: RemoteError): void;
}

export interface ConnectionOptions {
  videoId: string;
  device: string;
  room: string | null;
  credentials(): Promise<Credentials | null>;
  /** after the access token was refused (4401 / HTTP 401): true when a fresh one is there */
  refresh(): Promise<boolean>;
  /** `ws://host:port` or `wss://host` */
  wsOrigin: string;
  /** null: no WebSocket in this browser, the HTTP fallback at once */
  socket: SocketFactory | null;
  fetch: typeof fetch;
  /** local monotonic clock, ms (performance.timeOrigin + performance.now()) */
  localNow(): number;
  random?(): number;
}

/** Pings right after the greeting (the best of them sets the clock), then one every PING_EVERY_MS. */
const FIRST_PINGS = 5;
const FIRST_PING_GAP_MS = 200;
const PING_EVERY_MS = 20_000;
/**
 * HTTP fallback: a plain `GET …/state/` this often, for the member list (a long poll only
 * answers changes of the state) and a clock sample; it also keeps this device present (35 s).
 */
const HTTP_REFRESH_MS = 10_000;
/** at most this many messages wait for a connection (the latest of each type) */
const MAX_QUEUED = 8;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: RemoteError,
    readonly retryAfterS: number | null,
  ) {
    super(error.message || `HTTP ${status}`);
  }
}

export class RemoteConnection {
  readonly clock: ServerClock;
  private transport: Transport;
  private stopped = false;
  private greeted = false;
  /** a WebSocket of this connection has been greeted once: later failures are outages, not a block */
  private wsWorked = false;
  /** WebSocket attempts in a row that never reached the greeting */
  private failures = 0;
  private attempt = 0;
  private refreshed = false;
  private version = -1;
  private ws: SocketHandle | null = null;
  private abort: AbortController | null = null;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private queue: ControlMessage[] = [];
  private cred: Credentials | null = null;
  private statusNow: ConnectionStatus;
  private refreshing = false;

  constructor(
    private readonly o: ConnectionOptions,
    private readonly on: ConnectionEvents,
  ) {
    this.clock = new ServerClock(o.localNow);
    this.transport = o.socket ? "websocket" : "http";
    this.statusNow = { phase: "connecting", transport: this.transport, error: null };
  }

  get status(): ConnectionStatus {
    return this.statusNow;
  }

  start(): void {
    if (this.transport === "websocket") void this.connectWs();
    else void this.runHttp();
  }

  close(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.ws?.close(1000, "bye");
    this.ws = null;
    this.abort?.abort();
  }

  /** Sends one control message now, or once the session greets (the latest of each type). */
  send(msg: ControlMessage): void {
    if (this.stopped) return;
    if (!this.greeted) {
      this.queue = [...this.queue.filter((m) => m.type !== msg.type), msg].slice(-MAX_QUEUED);
      return;
    }
    if (this.transport === "websocket") this.ws?.send(JSON.stringify(msg));
    else void this.postControl(msg);
  }

  // --- shared -------------------------------------------------------------------------------

  private setStatus(phase: Phase, error: RemoteError | null = null): void {
    this.statusNow = { phase, transport: this.transport, error };
    this.on.status(this.statusNow);
  }

  private stop(error: RemoteError | null): void {
    this.close();
    this.setStatus("stopped", error);
  }

  private later(ms: number, run: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) run();
    }, ms);
    this.timers.add(t);
  }

  private backoff(): number {
    return backoffMs(this.attempt++, (this.o.random ?? Math.random)());
  }

  private greet(g: Greeting): void {
    this.greeted = true;
    this.attempt = 0;
    this.refreshed = false;
    this.version = g.state.version;
    this.on.session(g.session);
    this.on.members(g.members, g.member_count);
    this.on.state(g.state, g.by, true);
    this.setStatus("open");
    const queued = this.queue;
    this.queue = [];
    for (const m of queued) this.send(m);
  }

  private deliver(state: PlaybackState, by: string | null): void {
    if (state.version < this.version) return;
    this.version = state.version;
    this.on.state(state, by, false);
  }

  private query(extra: Record<string, string | number> = {}, withAccess = true): string {
    const q = new URLSearchParams({ device: this.o.device });
    if (this.o.room) q.set("room", this.o.room);
    // The WebSocket cannot send headers: its token goes in the query. HTTP sends an access
    // token as the Authorization header (kept out of access logs), a playback token in the query.
    if (this.cred && (withAccess || this.cred.kind === "playback")) q.set("token", this.cred.value);
    for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
    return q.toString();
  }

  // --- WebSocket ----------------------------------------------------------------------------

  private async connectWs(): Promise<void> {
    this.greeted = false;
    this.setStatus(this.wsWorked || this.failures > 0 ? "reconnecting" : "connecting", this.statusNow.error);
    this.cred = await this.o.credentials().catch(() => null);
    if (this.stopped) return;
    const url = `${this.o.wsOrigin}/ws/stream/${encodeURIComponent(this.o.videoId)}/?${this.query()}`;
    const sentAt = this.o.localNow();
    let lastError: RemoteError | null = null;
    let closed = false;
    let pinger: ReturnType<typeof setTimeout> | null = null;
    const ping = (n: number) => {
      handle?.send(JSON.stringify({ type: "ping", client_time: this.o.localNow() }));
      pinger = setTimeout(() => ping(n + 1), n + 1 < FIRST_PINGS ? FIRST_PING_GAP_MS : PING_EVERY_MS);
    };
    const onClose = (code: number, reason: string) => {
      if (closed) return;
      closed = true;
      if (pinger) clearTimeout(pinger);
      if (this.ws === handle) this.ws = null;
      void this.wsClosed(code, reason, lastError);
    };
    let handle: SocketHandle | null = null;
    try {
      handle = this.o.socket!(url, {
        open: () => undefined,
        message: (data) => {
          if (closed || this.stopped) return;
          const f = parseFrame(data);
          if (!f) return;
          const now = this.o.localNow();
          switch (f.kind) {
            case "greeting":
              this.failures = 0;
              this.wsWorked = true;
              // The greeting's server_time was read between the upgrade request and now: a sample.
              this.clock.add(clockSample(sentAt, now, f.frame.state.server_time));
              this.greet(f.frame);
              ping(0);
              break;
            case "state":
              this.deliver(f.frame.state, f.frame.by);
              break;
            case "presence":
              this.on.members(f.frame.members, f.frame.count);
              break;
            case "pong":
              if (typeof f.frame.client_time === "number") this.clock.add(clockSample(f.frame.client_time, now, f.frame.server_time));
              break;
            case "error":
              lastError = f.frame.error;
              // Errors before a close are reported by the close; the others refused one message.
              if (!CLOSING_ERRORS.has(f.frame.error.code)) this.on.refused(f.frame.error);
              break;
            default:
              break;
          }
        },
        close: onClose,
      });
    } catch {
      // A blocked or missing constructor: as a connection that failed at once.
      onClose(1006, "");
      return;
    }
    this.ws = handle;
  }

  private async wsClosed(code: number, reason: string, lastError: RemoteError | null): Promise<void> {
    if (this.stopped) return;
    const wasGreeted = this.greeted;
    this.greeted = false;
    const err = lastError ?? closeError(code, reason);
    const action = closeAction(code, this.cred?.kind === "access");
    if (action === "stop") return this.stop(err);
    if (action === "refresh") {
      // One refresh per refusal: a token refused right after a refresh means the sign-in ended.
      if (this.refreshed && !wasGreeted) return this.stop({ code: "session_ended", message: "" });
      this.refreshed = true;
      const fresh = await this.o.refresh().catch(() => false);
      if (this.stopped) return;
      if (!fresh) return this.stop({ code: "session_ended", message: "" });
      return void this.connectWs();
    }
    if (!wasGreeted) this.failures++;
    if (!this.wsWorked && this.failures >= FALLBACK_AFTER_FAILURES) {
      this.transport = "http";
      return void this.runHttp();
    }
    this.setStatus("reconnecting", err && err.code !== "server_shutdown" ? err : null);
    // A server going away for a restart (1001) is back in a moment; anything else backs off.
    this.later(code === 1001 ? 250 + Math.round((this.o.random ?? Math.random)() * 750) : this.backoff(), () => void this.connectWs());
  }

  // --- HTTP fallback ------------------------------------------------------------------------

  private async request(method: "GET" | "POST", path: string, query: Record<string, string | number>, body?: ControlMessage): Promise<{ data: Greeting; sentAt: number; receivedAt: number }> {
    const headers: Record<string, string> = {};
    if (this.cred?.kind === "access") headers.authorization = `Bearer ${this.cred.value}`;
    if (body) headers["content-type"] = "application/json";
    const url = `/api/stream/${encodeURIComponent(this.o.videoId)}/${path}?${this.query(query, false)}`;
    const sentAt = this.o.localNow();
    let res: Response;
    try {
      res = await this.o.fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined, credentials: "same-origin", signal: this.abort?.signal, cache: "no-store" });
    } catch (err) {
      if (this.stopped) throw err;
      throw new HttpError(0, { code: "network", message: "" }, null);
    }
    const receivedAt = this.o.localNow();
    const data = (await res.json().catch(() => null)) as (Greeting & { error?: RemoteError & { details?: { retry_after_s?: number } } }) | null;
    if (!res.ok || !data) {
      const e = data?.error;
      const retry = typeof e?.details?.retry_after_s === "number" ? e.details.retry_after_s : Number(res.headers.get("retry-after")) || null;
      throw new HttpError(res.status, { code: e?.code ?? `http_${res.status}`, message: e?.message ?? "" }, retry);
    }
    return { data, sentAt, receivedAt };
  }

  /** A greeting over HTTP, with its clock sample. */
  private async httpState(): Promise<Greeting> {
    const r = await this.request("GET", "state/", {});
    this.clock.add(clockSample(r.sentAt, r.receivedAt, r.data.state.server_time));
    return r.data;
  }

  /**
   * A few more `GET state/` right after the greeting, as the WebSocket sends its first pings: one
   * round trip's midpoint can be off by half its asymmetry, and the clock keeps the lowest-RTT
   * sample, so a handful taken apart gives the fallback an offset as good as the socket's.
   */
  private async httpClockBurst(): Promise<void> {
    for (let i = 1; i < FIRST_PINGS && !this.stopped; i++) {
      await new Promise<void>((resolve) => this.later(FIRST_PING_GAP_MS, resolve));
      if (this.stopped) return;
      await this.httpState().catch(() => undefined);
    }
  }

  /** Decides what an HTTP error means: "retry" after a wait, or the connection stopped. */
  private async httpFailed(err: unknown): Promise<"retry" | "stopped"> {
    if (this.stopped || !(err instanceof HttpError)) return "stopped";
    if (err.status === 401) {
      if (this.cred?.kind !== "access" || this.refreshed) {
        this.stop({ code: err.error.code === "not_authenticated" ? "not_authenticated" : "session_ended", message: err.error.message });
        return "stopped";
      }
      this.refreshed = true;
      const fresh = await this.o.refresh().catch(() => false);
      if (this.stopped) return "stopped";
      if (!fresh) {
        this.stop({ code: "session_ended", message: "" });
        return "stopped";
      }
      this.cred = await this.o.credentials().catch(() => null);
      return "retry";
    }
    if (err.status === 400 || err.status === 403 || err.status === 404) {
      this.stop(err.error);
      return "stopped";
    }
    this.setStatus("reconnecting", err.status === 429 ? err.error : null);
    const wait = err.status === 429 && err.retryAfterS !== null ? Math.ceil(err.retryAfterS * 1000) : this.backoff();
    await new Promise<void>((resolve) => this.later(wait, resolve));
    return this.stopped ? "stopped" : "retry";
  }

  private async runHttp(): Promise<void> {
    this.greeted = false;
    this.abort = new AbortController();
    this.setStatus(this.failures > 0 ? "reconnecting" : "connecting");
    this.cred = await this.o.credentials().catch(() => null);
    for (;;) {
      if (this.stopped) return;
      try {
        if (!this.greeted) {
          this.greet(await this.httpState());
          this.refreshLoop();
          void this.httpClockBurst();
        }
        const r = await this.request("GET", "state/", { since: this.version });
        this.refreshed = false;
        this.attempt = 0;
        if (this.stopped) return;
        this.on.members(r.data.members, r.data.member_count);
        this.deliver(r.data.state, r.data.by);
      } catch (err) {
        const wasGreeted = this.greeted;
        if ((await this.httpFailed(err)) === "stopped") return;
        // After an outage the session may have moved on (or a restarted server counts from 1):
        // greet again rather than long-polling from an old version.
        if (wasGreeted && err instanceof HttpError && err.status !== 401) this.greeted = false;
      }
    }
  }

  private refreshLoop(): void {
    if (this.refreshing || this.stopped) return;
    this.refreshing = true;
    const again = () => {
      this.refreshing = false;
      this.refreshLoop();
    };
    this.later(HTTP_REFRESH_MS, () => {
      void this.httpState()
        .then((g) => {
          if (this.stopped) return;
          this.on.members(g.members, g.member_count);
          this.deliver(g.state, g.by);
        })
        .catch(() => undefined)
        .finally(again);
    });
  }

  private async postControl(msg: ControlMessage, retried = false): Promise<void> {
    try {
      const r = await this.request("POST", "control/", {}, msg);
      if (!this.stopped) this.deliver(r.data.state, r.data.by);
    } catch (err) {
      if (this.stopped || !(err instanceof HttpError)) return;
      if (err.status === 401 && !retried && this.cred?.kind === "access" && (await this.o.refresh().catch(() => false))) {
        this.cred = await this.o.credentials().catch(() => null);
        return this.postControl(msg, true);
      }
      this.on.refused(err.status === 0 ? { code: "network", message: "The server could not be reached." } : err.error);
    }
  }
}

/** Error codes the server sends just before closing the socket (the close reports them). */
const CLOSING_ERRORS = new Set([
  "session_ended",
  "room_ended",
  "room_not_found",
  "video_not_found",
  "video_unavailable",
  "playback_token_revoked",
  "token_invalid",
  "token_expired",
  "token_revoked",
  "not_authenticated",
  "forbidden",
  "server_shutdown",
]);
