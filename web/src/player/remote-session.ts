/**
 * The remote panel's moving parts as one Preact hook: the connection to the playback session
 * (remote-connection.ts) for as long as the panel wants one, the sync controller bound to the
 * player once there is one (sync-controller.ts), and what the panel shows of both. Also this
 * browser's device id.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { browserSocket, RemoteConnection, type ConnectionStatus, type Credentials } from "./remote-connection.js";
import type { PlayerHandle } from "./player-handle.js";
import { browserName, describeDevice, describeRemoteError, deviceKind, newDeviceId, tabDeviceId, type Member, type PlaybackState, type SessionInfo } from "./remote-protocol.js";
import { SyncController } from "./sync-controller.js";

const DEVICE_KEY = "vidflux.device";
const TAB_KEY = "vidflux.device-tab";

function randomId(bytes = 8): string {
  // crypto.randomUUID needs a secure context; a LAN address over plain HTTP is not one.
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return [...a].map((b) => b.toString(36).padStart(2, "0")).join("").slice(0, bytes * 2);
}

/**
 * This tab's device id: the browser's stable id (localStorage, so a reload or a new tab is the
 * same phone) plus the tab's suffix (sessionStorage: two tabs are two screens). Without
 * storage (blocked cookies), a fresh id per page.
 */
export function localDeviceId(): string {
  const fresh = () => newDeviceId(deviceKind(navigator.userAgent, navigator.maxTouchPoints), browserName(navigator.userAgent), randomId());
  try {
    let base = window.localStorage.getItem(DEVICE_KEY);
    if (!base || !/^[A-Za-z0-9_.-]{1,48}$/.test(base)) {
      base = fresh();
      window.localStorage.setItem(DEVICE_KEY, base);
    }
    let tab = window.sessionStorage.getItem(TAB_KEY);
    if (!tab) {
      tab = randomId(3);
      window.sessionStorage.setItem(TAB_KEY, tab);
    }
    return tabDeviceId(base, tab);
  } catch {
    return fresh();
  }
}

const localNow = () => performance.timeOrigin + performance.now();

export interface RemoteSessionOptions {
  videoId: string;
  player: PlayerHandle | null;
  room: string | null;
  /** connect at all (signed in with sync on, or in a room) */
  enabled: boolean;
  /** who is signed in (a change reconnects: the session is theirs) */
  userId: string | null;
  credentials(): Promise<Credentials | null>;
  refresh(): Promise<boolean>;
  /** the page's `?t=` (see SyncControllerOptions.start) */
  start?: number;
}

export interface RemoteView {
  device: string;
  status: ConnectionStatus | null;
  session: SessionInfo | null;
  members: Member[];
  count: number;
  state: PlaybackState | null;
  /** the device of the last change (null: a timer's, or none yet) */
  lastBy: string | null;
  /** the latest remote action or refusal in words, for the live region */
  announcement: string;
  autoplayBlocked: boolean;
}

/** "alice (Chrome on phone)" in a room, "Chrome on phone" among one's own devices. */
export function whoIs(device: string, members: readonly Member[], inRoom: boolean): string {
  const label = describeDevice(device).label;
  const user = members.find((m) => m.device === device)?.user;
  return inRoom ? `${user?.username ?? "a guest"} (${label})` : label;
}

export function useRemoteSession(o: RemoteSessionOptions): RemoteView {
  const [device] = useState(localDeviceId);
  const [view, setView] = useState<RemoteView>({ device, status: null, session: null, members: [], count: 0, state: null, lastBy: null, announcement: "", autoplayBlocked: false });
  const update = (patch: Partial<RemoteView>) => setView((v) => ({ ...v, ...patch }));
  const conn = useRef<RemoteConnection | null>(null);
  const ctrl = useRef<SyncController | null>(null);
  const last = useRef<{ state: PlaybackState; by: string | null } | null>(null);
  const members = useRef<Member[]>([]);
  const session = useRef<SessionInfo | null>(null);
  const player = useRef(o.player);
  player.current = o.player;
  const inRoom = o.room !== null;

  /** (Re)binds the controller to the current player and connection. */
  const bind = () => {
    ctrl.current?.detach();
    ctrl.current = null;
    const c = conn.current;
    const p = player.current;
    // A stopped session (a room ended, the sign-in ended) no longer drives the player.
    if (!c || !p || c.status.phase === "stopped") return;
    const sc = new SyncController({
      player: p,
      device,
      send: (m) => c.send(m),
      serverNow: () => c.clock.now(),
      localNow,
      qualityScope: inRoom ? "device" : "session",
      canControl: () => session.current?.can_control ?? true,
      onRemoteChange: (text, by) => update({ announcement: `${text} from ${whoIs(by, members.current, inRoom)}` }),
      onAutoplayBlocked: (blocked) => update({ autoplayBlocked: blocked }),
      onControlRefused: () => update({ announcement: describeRemoteError({ code: "control_forbidden", message: "" }) }),
      start: o.start,
    });
    sc.attach();
    if (last.current) sc.onState(last.current.state, last.current.by, true);
    ctrl.current = sc;
  };

  const prevUser = useRef(o.userId);
  useEffect(() => {
    last.current = null;
    session.current = null;
    members.current = [];
    // Signed out because the sign-in session ended (4401): keep saying so.
    const signedOut = prevUser.current !== null && o.userId === null;
    prevUser.current = o.userId;
    setView((v) => ({ ...v, status: signedOut && v.status?.phase === "stopped" ? v.status : null, session: null, members: [], count: 0, state: null, lastBy: null, autoplayBlocked: false }));
    if (!o.enabled) return;
    const socket = typeof window.WebSocket === "function" ? browserSocket(window.WebSocket) : null;
    const c = new RemoteConnection(
      {
        videoId: o.videoId,
        device,
        room: o.room,
        credentials: o.credentials,
        refresh: o.refresh,
        wsOrigin: `${window.location.protocol === "https:" ? "wss:" : "ws:"}//${window.location.host}`,
        socket,
        fetch: (input, init) => window.fetch(input, init),
        localNow,
      },
      {
        session: (info) => {
          session.current = info;
          update({ session: info });
        },
        state: (state, by, greeting) => {
          last.current = { state, by };
          ctrl.current?.onState(state, by, greeting);
          setView((v) => ({ ...v, state, lastBy: by ?? v.lastBy }));
        },
        members: (list, count) => {
          members.current = list;
          update({ members: list, count });
        },
        status: (status) => {
          if (status.phase === "stopped") {
            ctrl.current?.detach();
            ctrl.current = null;
          }
          update({ status });
        },
        refused: (err) => {
          ctrl.current?.onRefused(err);
          update({ announcement: describeRemoteError(err) });
        },
      },
    );
    conn.current = c;
    c.start();
    bind();
    return () => {
      ctrl.current?.detach();
      ctrl.current = null;
      c.close();
      conn.current = null;
    };
  }, [o.videoId, o.room, o.enabled, o.userId]);

  useEffect(() => {
    bind();
  }, [o.player]);

  return view;
}
