/**
 * Live playback control: joining a session (personal or a room), applying control messages to
 * its server-authoritative state, and the devices' presence. One service for every transport:
 * the WebSocket route, the HTTP fallback (control, state, long polling) and its SSE stream all
 * call `join`, then `connect` (long-lived transports) or `control`/`state` (per request).
 *
 * A change is applied with compare-and-set on the state hub (session-store.ts) and published
 * on the session's channel; every process with devices in the session (this one included)
 * delivers it to them (local-sessions.ts). So the sender of a `pause` gets the same `state`
 * frame as everyone else, and a WebSocket device and an HTTP device see each other's changes.
 */
import { randomUUID } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { AppError, forbidden, notFound, unauthorized } from "../../lib/errors.js";
import type { SessionRevocations } from "../users/index.js";
import type { HistoryService, SaveReason } from "./history.service.js";
import type { LocalSessions, Participant } from "./local-sessions.js";
import { listedMembers, memberOf } from "./local-sessions.js";
import * as rules from "./playback-state.js";
import type { ControlMessage, ControlResponseBody, Member, StateResponseBody, SwitchInfo } from "./playback.schemas.js";
import { normalizeRoomCode, roomSid, type MemberRecord, type SessionRef, type SessionStore, type Versioned } from "./session-store.js";
import { defaultAudio, resolveAudio, resolveQuality, resolveSubtitles, switchInfo } from "./video-catalogue.js";
import type { Viewer, ViewerAccess, WatchedVideo } from "./viewer-access.js";
import type { ControlLimiter } from "./control-limiter.js";

export interface JoinInput {
  videoId: string;
  token?: string;
  device?: string;
  room?: string;
}

/** A device admitted to a session (not yet connected: HTTP requests stay at this stage). */
export interface Joined {
  viewer: Viewer;
  watched: WatchedVideo;
  ref: SessionRef;
  device: string;
  canControl: boolean;
}

export interface SessionTimings {
  /** how long a room's `play` waits for buffering members, ms */
  waitTimeoutMs: number;
  /** member expiry of an HTTP-only device after its last request, s */
  httpMemberTtlS: number;
}

/** Messages a member without control may still send: about itself only. */
const SELF_ONLY = new Set<ControlMessage["type"]>(["buffering", "ready", "sync"]);

export class PlaybackSessionService {
  constructor(
    private readonly deps: {
      access: ViewerAccess;
      store: SessionStore;
      local: LocalSessions;
      history: HistoryService;
      limiter: ControlLimiter;
      logger: Logger;
      timings: SessionTimings;
      /** the signed-in devices' sessions: one that ends (logout, password change…) disconnects its devices */
      revocations: Pick<SessionRevocations, "watch">;
    },
  ) {}

  /** what stops watching each connected device's sign-in session */
  private readonly unwatch = new Map<Participant, () => void>();

  async join(req: FastifyRequest, input: JoinInput): Promise<Joined> {
    const { access, store } = this.deps;
    const viewer = await access.identify(req, input.videoId, input.token);
    const watched = await access.video(input.videoId, viewer);
    const device = input.device ?? randomUUID();
    if (input.room !== undefined) {
      const room = await store.room(input.room);
      if (!room || room.videoId !== input.videoId) throw notFound("No such watch room for this video (it may have ended).", "room_not_found");
      const canControl = room.control === "everyone" || viewer.user?.id === room.createdBy.id;
      return { viewer, watched, device, canControl, ref: { videoId: input.videoId, sid: roomSid(normalizeRoomCode(room.code)), room } };
    }
    const uid = viewer.user?.id ?? viewer.tokenUserId;
    return { viewer, watched, device, canControl: true, ref: { videoId: input.videoId, sid: uid ? `u:${uid}` : `a:${device}`, room: null } };
  }

  /**
   * Registers a long-lived device (WebSocket or SSE) and returns it with the state to greet it
   * with. The device is subscribed before the state is read, so no change is missed; what
   * arrives before the transport calls `start()` (after sending the greeting) is held, and
   * state frames the greeting already covers are dropped, so a device never sees an older
   * version after a newer one.
   */
  async connect(
    j: Joined,
    transport: "ws" | "http",
    io: { sendRaw(type: string, raw: string | Buffer): void; end(err: Error): void },
  ): Promise<{ participant: Participant; hello: StateResponseBody; start(): void }> {
    let held: { type: string; raw: string | Buffer; version?: number }[] | null = [];
    const participant: Participant = {
      id: randomUUID(),
      device: j.device,
      viewer: j.viewer,
      transport,
      ref: j.ref,
      watched: j.watched,
      canControl: j.canControl,
      quality: null,
      buffering: false,
      sendRaw: (type, raw, version) => {
        if (held) held.push({ type, raw, version });
        else io.sendRaw(type, raw);
      },
      end: io.end,
    };
    await this.deps.local.add(participant);
    let current: Versioned;
    try {
      // Nobody present (its devices' process crashed): the session does not run on unwatched.
      current = (await this.deps.store.members(j.ref)).length === 0 ? await this.pauseAbandoned(j.ref, j) : await this.ensure(j);
      await this.deps.store.setMember(j.ref, memberOf(participant));
      await this.deps.store.publish(j.ref, { kind: "presence" });
    } catch (err) {
      await this.deps.local.remove(participant);
      throw err;
    }
    const members = await this.members(j.ref);
    const greeted = current.version;
    const user = j.viewer.user;
    if (user) {
      const ended = unauthorized("session_ended", "The session ended (signed out, password changed or account disabled).");
      this.unwatch.set(participant, this.deps.revocations.watch(user, () => participant.end(ended)));
    }
    return {
      participant,
      hello: this.response(j, current, members, null, null),
      start: () => {
        const frames = held ?? [];
        held = null;
        for (const f of frames) if (f.version === undefined || f.version > greeted) io.sendRaw(f.type, f.raw);
      },
    };
  }

  async disconnect(p: Participant): Promise<void> {
    const { store, local } = this.deps;
    this.unwatch.get(p)?.();
    this.unwatch.delete(p);
    const last = await local.remove(p);
    // Another connection of the same device (a reload racing the old socket's close) keeps it present.
    const stillHere = local.get(p.ref)?.participants ?? new Set<Participant>();
    if (![...stillHere].some((o) => o.device === p.device)) await store.removeMember(p.ref, p.device);
    await store.publish(p.ref, { kind: "presence" });
    if (!last) return;
    // The last device left: the session stops where it was, so whoever comes back (tomorrow, or
    // to a room) finds it there and not extrapolated to the end.
    if ((await store.members(p.ref)).length === 0) {
      await this.pauseAbandoned(p.ref, { viewer: p.viewer, watched: p.watched, ref: p.ref }).catch((err: unknown) => this.deps.logger.warn({ err }, "abandoned session not paused"));
    }
    await this.saveHistory(p.ref, p.viewer, p.watched, "leave");
  }

  private async pauseAbandoned(ref: SessionRef, j: Pick<Joined, "viewer" | "watched" | "ref">): Promise<Versioned> {
    const bounds = { duration: j.watched.catalogue.duration };
    const now = Date.now();
    const r = await this.deps.store.update(ref, (s) => (s.status === "playing" || s.status === "waiting" ? rules.pause(s, now, bounds) : s), null, () => this.init(j));
    return { state: r.state, version: r.version };
  }

  /** The session as one device sees it (HTTP `GET …/state/`). Refreshes an HTTP device's presence. */
  async state(j: Joined): Promise<StateResponseBody> {
    const current = await this.ensure(j);
    const member = await this.touchHttpMember(j);
    return this.response(j, current, await this.members(j.ref), member.quality, null);
  }

  /** Answers once the session's version passes `since`, or after `timeoutMs` with the current state. */
  async waitForChange(j: Joined, since: number, timeoutMs: number, signal: AbortSignal): Promise<StateResponseBody> {
    const first = await this.state(j);
    if (first.state.version > since) return first;
    await new Promise<void>((resolve) => {
      let unsubscribe: (() => Promise<void>) | null = null;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        void unsubscribe?.();
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener("abort", done, { once: true });
      void this.deps.store
        .subscribe(j.ref, (msg) => {
          if (msg.kind !== "presence" && (msg.kind !== "state" || msg.version > since)) done();
        })
        .then(async (u) => {
          unsubscribe = u;
          // A change that landed between the first read and the subscription is not missed.
          const cur = await this.deps.store.read(j.ref);
          if (signal.aborted || (cur && cur.version > since)) done();
        })
        .catch(done);
    });
    return this.state(j);
  }

  /**
   * Applies one control message from a device. WebSocket devices pass their participant (its
   * buffering and device quality live there); HTTP devices keep theirs in the member record.
   */
  async control(j: Joined, msg: ControlMessage, p: Participant | null): Promise<ControlResponseBody> {
    this.deps.limiter.take(`${this.deps.store.stateKey(j.ref)}|${j.device}`);
    if (!j.canControl && !SELF_ONLY.has(msg.type) && !(msg.type === "change_quality" && msg.scope === "device")) {
      throw forbidden("Only the room's creator controls playback in this room.", "control_forbidden");
    }
    const member = p ? memberOf(p) : await this.httpMember(j);
    const cat = j.watched.catalogue;
    const bounds = { duration: cat.duration };
    const now = Date.now();
    let change: ((s: rules.StoredState) => rules.StoredState) | null = null;
    let switched: ((s: rules.StoredState) => SwitchInfo) | null = null;
    let reason: SaveReason | null = null;
    // Rooms wait for members that are buffering; read (below) from the shared member set after
    // this device's own readiness is saved, and used by the change when it runs.
    let readiness: string[] = [];

    switch (msg.type) {
      case "sync":
        break;
      case "play":
        change = (s) => rules.play(s, now, bounds, this.playOptions(j, readiness));
        break;
      case "pause":
        change = (s) => rules.pause(s, now, bounds);
        reason = "pause";
        break;
      case "seek": {
        const position = rules.validPosition(msg.position, bounds);
        change = (s) => rules.seek(s, now, bounds, position);
        reason = "seek";
        break;
      }
      case "change_speed":
        rules.changeSpeed(rules.initialState(now), now, bounds, msg.speed); // validates before any I/O
        change = (s) => rules.changeSpeed(s, now, bounds, msg.speed);
        break;
      case "change_quality": {
        const quality = resolveQuality(cat, msg.quality);
        if (msg.scope === "device") {
          member.quality = quality === "auto" ? null : quality;
          if (p) p.quality = member.quality;
          await this.saveMember(j, member, p);
          switched = (s) => switchInfo(cat, quality, s.audioLang, s.subtitleLang, s.audioTrack ?? undefined);
        } else {
          change = (s) => (s.quality === quality ? s : rules.changeQuality(s, now, bounds, quality));
          switched = (s) => switchInfo(cat, member.quality ?? s.quality, s.audioLang, s.subtitleLang, s.audioTrack ?? undefined);
        }
        break;
      }
      case "change_lang": {
        const audio = msg.audio !== undefined ? resolveAudio(cat, msg.audio) : undefined;
        const subs = msg.subtitles !== undefined ? resolveSubtitles(cat, msg.subtitles) : undefined;
        const patch = { ...(audio ? { audioLang: audio.language, audioTrack: audio.id } : {}), ...(subs !== undefined ? { subtitleLang: subs?.lang ?? null } : {}) };
        change = (s) => rules.changeLang(s, now, bounds, patch);
        switched = (s) => switchInfo(cat, member.quality ?? s.quality, s.audioLang, s.subtitleLang, s.audioTrack ?? undefined);
        break;
      }
      case "buffering":
      case "ready":
        member.buffering = msg.type === "buffering";
        if (p) p.buffering = member.buffering;
        await this.saveMember(j, member, p);
        if (j.ref.room) change = (s) => rules.readinessChanged(s, now, bounds, this.playOptions(j, readiness));
        break;
    }

    if (j.ref.room) readiness = (msg.type === "play" || msg.type === "buffering" || msg.type === "ready") ? await this.notReady(j.ref) : [];
    const result = change ? await this.deps.store.update(j.ref, change, j.device, () => this.init(j)) : { ...(await this.ensure(j)), changed: false };
    if (result.state.status === "waiting" && result.changed) this.scheduleWaitEnd(j, result.state);
    if (reason) await this.saveHistory(j.ref, j.viewer, j.watched, reason, result.state);
    const view = rules.toView(result.state, result.version, Date.now(), cat.duration, member.quality);
    return {
      type: "state",
      state: view,
      by: result.changed ? j.device : null,
      version: result.version,
      ...(switched ? { switch: switched(result.state) } : {}),
    };
  }

  /** Which members of a room are buffering (their devices), read from the shared member set. */
  private async notReady(ref: SessionRef): Promise<string[]> {
    return (await this.deps.store.members(ref)).filter((m) => m.buffering).map((m) => m.device);
  }

  private playOptions(j: Joined, notReady: string[]): rules.PlayOptions {
    return { notReady: j.ref.room ? notReady : [], waitTimeoutMs: this.deps.timings.waitTimeoutMs };
  }

  /**
   * At the deadline, this process flips the room to playing and tells everyone. If it died
   * first, `settle` gives every reader the same answer anyway; this only makes it arrive on time.
   */
  private scheduleWaitEnd(j: Joined, s: rules.StoredState): void {
    const until = s.waitingUntilMs;
    if (until === null) return;
    const t = setTimeout(() => {
      void this.deps.store
        .update(j.ref, (cur) => (cur.status === "waiting" && cur.waitingUntilMs !== null && Date.now() >= cur.waitingUntilMs ? rules.settle(cur, Date.now()) : cur), null, () => this.init(j))
        .catch((err: unknown) => this.deps.logger.warn({ err }, "room wait did not end"));
    }, Math.max(0, until - Date.now()) + 5);
    t.unref();
  }

  /** Video changed (visibility, deletion): devices that may no longer watch are disconnected. */
  async recheck(videoId: string, participants: Participant[]): Promise<void> {
    if (participants.length === 0) return;
    const row = await this.deps.access.current(videoId);
    for (const p of participants) {
      const refusal = this.deps.access.refusal(row, p.viewer);
      if (refusal) p.end(refusal instanceof AppError && refusal.status === 401 ? forbidden("This video is no longer available to you.", "video_unavailable") : refusal);
    }
  }

  /** Every 10 s or so: keep local members and their sessions alive, save playing positions. */
  async heartbeat(): Promise<void> {
    const { store, local } = this.deps;
    for (const session of local.sessions.values()) {
      for (const p of session.participants) await store.setMember(session.ref, memberOf(p));
      await store.touch(session.ref);
      const first = session.participants.values().next().value;
      // A session no change reached since its devices joined here has no state here yet: read it.
      const state = first ? (session.lastState ?? (await store.read(session.ref))?.state) : undefined;
      if (first && state?.status === "playing") await this.saveHistory(session.ref, first.viewer, first.watched, "tick", state);
    }
  }

  private async saveHistory(ref: SessionRef, viewer: Viewer, watched: WatchedVideo, reason: SaveReason, state?: rules.StoredState): Promise<void> {
    // Positions are the user's own: personal sessions of signed-in users only.
    const uid = viewer.user?.id;
    if (!uid || ref.room || ref.sid !== `u:${uid}`) return;
    try {
      const s = state ?? (await this.deps.store.read(ref))?.state;
      if (!s || s.status === "idle") return;
      const d = watched.catalogue.duration;
      await this.deps.history.record(uid, ref.videoId, rules.positionAt(s, Date.now(), d), d, reason);
    } catch (err) {
      this.deps.logger.warn({ err }, "watch position not saved");
    }
  }

  private async ensure(j: Joined): Promise<Versioned> {
    return this.deps.store.ensure(j.ref, () => this.init(j));
  }

  /** A new session: where the user left off (personal), with the video's default audio. */
  private async init(j: Pick<Joined, "viewer" | "watched" | "ref">): Promise<rules.StoredState> {
    const uid = j.viewer.user?.id;
    const position = uid && !j.ref.room ? await this.deps.history.resumeAt(uid, j.ref.videoId) : 0;
    const audio = defaultAudio(j.watched.catalogue);
    return rules.initialState(Date.now(), { position, audioLang: audio?.language ?? null, audioTrack: audio?.id ?? null });
  }

  private async members(ref: SessionRef): Promise<{ members: Member[]; count: number }> {
    return listedMembers(await this.deps.store.members(ref));
  }

  private async httpMember(j: Joined): Promise<MemberRecord> {
    const existing = (await this.deps.store.members(j.ref)).find((m) => m.device === j.device);
    return existing ?? memberOf({ device: j.device, viewer: j.viewer, transport: "http", buffering: false, canControl: j.canControl, quality: null });
  }

  private async touchHttpMember(j: Joined): Promise<MemberRecord> {
    const existing = (await this.deps.store.members(j.ref)).find((m) => m.device === j.device);
    const m = existing ?? (await this.httpMember(j));
    // A WebSocket device polling state over HTTP stays a WebSocket member; its process refreshes it.
    if (m.transport === "http") await this.deps.store.setMember(j.ref, m, this.deps.timings.httpMemberTtlS);
    // A polling device that just arrived is announced, as a connecting one is (refreshes are not).
    if (!existing) await this.deps.store.publish(j.ref, { kind: "presence" });
    return m;
  }

  private async saveMember(j: Joined, m: MemberRecord, p: Participant | null): Promise<void> {
    await this.deps.store.setMember(j.ref, m, p ? undefined : this.deps.timings.httpMemberTtlS);
    await this.deps.store.publish(j.ref, { kind: "presence" });
  }

  private response(j: Joined, v: Versioned, m: { members: Member[]; count: number }, quality: string | null, by: string | null): StateResponseBody {
    return {
      type: "state",
      state: rules.toView(v.state, v.version, Date.now(), j.watched.catalogue.duration, quality),
      session: { kind: j.ref.room ? "room" : "personal", room: j.ref.room?.code ?? null, device: j.device, can_control: j.canControl },
      members: m.members,
      member_count: m.count,
      by,
    };
  }
}
