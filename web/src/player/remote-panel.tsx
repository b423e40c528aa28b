/**
 * The devices / watch-room panel under the player: keeps this player in sync with the user's
 * other devices (their personal playback session) or with a watch room, over ws/stream/{id}/ or
 * its HTTP fallback (remote-session.ts). Shows who is there, which transport runs, and every
 * remote action in a live region ("Paused from Chrome on phone"), so a screen reader user hears
 * why the video stopped.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/client.js";
import { api, freshToken, me, refreshSession } from "../api/session.js";
import { href, navigate, route } from "../router.js";
import { copyText } from "../ui/clipboard.js";
import { ErrorBox } from "../ui/components.js";
import type { PlayerHandle } from "./player-handle.js";
import type { ConnectionStatus, Credentials } from "./remote-connection.js";
import { describeDevice, describeRemoteError, isFatal, type Member, type PlaybackState, type Room } from "./remote-protocol.js";
import { useRemoteSession, whoIs } from "./remote-session.js";

export interface RemotePanelProps {
  videoId: string;
  player: PlayerHandle | null;
  /** `?room=<code>` of the page's address: join that watch room. */
  room: string | null;
  /** The video's `playback_token` (private videos watched without signing in); optional. */
  playbackToken?: string | null;
}

const SYNC_KEY = "vidflux.sync-devices";

function readSyncPref(): boolean {
  try {
    return window.localStorage.getItem(SYNC_KEY) !== "off";
  } catch {
    return true;
  }
}

function writeSyncPref(on: boolean): void {
  try {
    window.localStorage.setItem(SYNC_KEY, on ? "on" : "off");
  } catch {
    // Storage blocked: the choice lasts for this page.
  }
}

/** The address with `room` set (or removed), other parameters kept, without a new history entry. */
function setRoomInAddress(videoId: string, code: string | null): void {
  const q: Record<string, string> = {};
  route.value.query.forEach((v, k) => {
    if (k !== "room") q[k] = v;
  });
  if (code) q.room = code;
  navigate(href("watch", videoId, q), { replace: true });
}

export function modeText(status: ConnectionStatus | null, enabled: boolean): string {
  if (!enabled) return "Off";
  if (!status) return "Connecting…";
  const via = status.transport === "websocket" ? "WebSocket" : "HTTP fallback";
  switch (status.phase) {
    case "open":
      return `Connected (${via})`;
    case "connecting":
      return `Connecting (${via})…`;
    case "reconnecting":
      return `Reconnecting (${via})…`;
    case "stopped":
      return "Disconnected";
  }
}

function statusWord(state: PlaybackState | null, m: Member): string {
  if (m.buffering) return "Buffering";
  switch (state?.status) {
    case "playing":
      return "Playing";
    case "paused":
      return "Paused";
    case "waiting":
      return "Waiting";
    default:
      return "Ready";
  }
}

function MemberList(props: { members: Member[]; count: number; device: string; state: PlaybackState | null; inRoom: boolean; lastBy: string | null; label: string }) {
  const sorted = [...props.members].sort((a, b) => (a.device === props.device ? -1 : b.device === props.device ? 1 : 0));
  // Two screens of one kind ("Chrome on desktop" twice: two tabs, two laptops) are told apart by their ids' ends.
  const name = (m: Member) => (props.inRoom ? whoIs(m.device, props.members, true) : describeDevice(m.device).label);
  const labels = props.members.map(name);
  const twice = new Set(labels.filter((l, i) => labels.indexOf(l) !== i));
  return (
    <ul class="remote-members" aria-label={props.label}>
      {sorted.map((m) => {
        const d = describeDevice(m.device);
        return (
          <li key={m.device} data-device={m.device} class={m.device === props.device ? "self" : undefined}>
            <span class={`remote-kind remote-kind-${d.kind}`} aria-hidden="true" />
            <span class="remote-who">
              {name(m)}
              {twice.has(name(m)) && <span class="remote-id"> · {m.device.slice(-4)}</span>}
              {m.device === props.device && <span class="remote-self"> (this device)</span>}
            </span>
            <span class="remote-state">
              {statusWord(props.state, m)}
              {m.transport === "http" && " · HTTP"}
              {m.device === props.lastBy && " · last change"}
            </span>
          </li>
        );
      })}
      {props.count > props.members.length && <li class="remote-more">and {props.count - props.members.length} more</li>}
    </ul>
  );
}

export function RemotePanel(props: RemotePanelProps) {
  const user = me.value;
  const [room, setRoom] = useState<string | null>(props.room);
  useEffect(() => setRoom(props.room), [props.room]);
  const [syncOn, setSyncOn] = useState(readSyncPref);
  const [roomInfo, setRoomInfo] = useState<Room | null>(null);
  const [control, setControl] = useState<"everyone" | "owner">("everyone");
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [copied, setCopied] = useState("");
  const enabled = room !== null || (user !== null && syncOn);

  const credentials = async (): Promise<Credentials | null> => {
    const access = await freshToken();
    if (access) return { kind: "access", value: access };
    return props.playbackToken ? { kind: "playback", value: props.playbackToken } : null;
  };
  const [start] = useState(() => {
    const t = Number(route.value.query.get("t"));
    return Number.isFinite(t) && t > 0 ? t : undefined;
  });
  const remote = useRemoteSession({ videoId: props.videoId, player: props.player, room, enabled, userId: user?.id ?? null, credentials, refresh: refreshSession, start });
  const status = remote.status;
  const stopError = status?.phase === "stopped" ? status.error : null;
  const inRoom = room !== null;

  // Who created the room and who controls it: the greeting says only whether this device may.
  useEffect(() => {
    setRoomInfo(null);
    if (!room) return;
    let live = true;
    const query = !user && props.playbackToken ? { token: props.playbackToken } : undefined;
    api("get", "/api/stream/{video_id}/rooms/{code}/", { params: { video_id: props.videoId, code: room }, query })
      .then((r) => live && setRoomInfo(r))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [room, props.videoId, user?.id]);

  const createRoom = async () => {
    setBusy(true);
    setActionError(null);
    try {
      const r = await api("post", "/api/stream/{video_id}/rooms/", { params: { video_id: props.videoId }, body: { control } });
      setRoom(r.code);
      setRoomInfo(r);
      setRoomInAddress(props.videoId, r.code);
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };
  const leaveRoom = () => {
    setRoom(null);
    setRoomInAddress(props.videoId, null);
  };
  const endRoom = async () => {
    if (!room) return;
    setBusy(true);
    setActionError(null);
    try {
      await api("delete", "/api/stream/{video_id}/rooms/{code}/", { params: { video_id: props.videoId, code: room } });
      leaveRoom();
    } catch (err) {
      // Already ended elsewhere: just leave.
      if (err instanceof ApiError && err.status === 404) leaveRoom();
      else setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  const roomHash = room ? href("watch", props.videoId, { room }) : "";
  const roomUrl = room ? `${window.location.origin}${window.location.pathname}${roomHash}` : "";
  const creator = roomInfo?.created_by;
  const isCreator = !!user && !!creator && creator.id === user.id;
  const controlText = !roomInfo ? null : roomInfo.control === "everyone" ? "Everyone in the room controls playback." : `Only ${isCreator ? "you" : creator?.username} ${isCreator ? "control" : "controls"} playback.`;

  return (
    <section class="remote" aria-labelledby="remote-title">
      <h2 id="remote-title">{inRoom ? "Watch room" : "Devices and watch rooms"}</h2>
      <p class="remote-mode">
        Connection: <strong data-remote-mode={enabled ? (status?.phase === "open" ? status.transport : (status?.phase ?? "connecting")) : "off"}>{modeText(status, enabled)}</strong>
      </p>
      {/* Always in the page, so that screen readers pick up what is put in it later. */}
      <p class="remote-live" role="status" aria-live="polite" aria-atomic="true">
        {remote.announcement || copied}
      </p>
      {stopError && (
        <div class="error" role="alert">
          <p>{describeRemoteError(stopError)}</p>
          {inRoom && isFatal(stopError.code) && (
            <button type="button" class="secondary" onClick={leaveRoom}>
              {user ? "Back to my own playback" : "Leave the room"}
            </button>
          )}
        </div>
      )}
      {remote.autoplayBlocked && <p class="notice">Playback runs on the other devices: press play to join in.</p>}

      {!inRoom && !user && <p class="hint">Sign in to keep this video in step across your devices, or open a watch room link someone sent you.</p>}

      {!inRoom && user && (
        <>
          <div class="remote-toggle">
            <input
              type="checkbox"
              id="remote-sync"
              checked={syncOn}
              onChange={(e) => {
                const on = e.currentTarget.checked;
                setSyncOn(on);
                writeSyncPref(on);
              }}
            />
            <label for="remote-sync">Sync with my devices</label>
          </div>
          <h3 id="remote-devices">Devices</h3>
          {!syncOn ? (
            <p class="hint">Sync is off: this device plays on its own.</p>
          ) : remote.members.length > 1 ? (
            <MemberList label="Your devices on this video" members={remote.members} count={remote.count} device={remote.device} state={remote.state} inRoom={false} lastBy={remote.lastBy} />
          ) : (
            <p class="hint">Open this video on another device while signed in: each one follows what you do on the others.</p>
          )}
          <h3 id="remote-rooms">Watch together</h3>
          <div class="row">
            <div class="field">
              <label for="remote-control">Who controls playback</label>
              <select id="remote-control" value={control} onChange={(e) => setControl(e.currentTarget.value === "owner" ? "owner" : "everyone")}>
                <option value="everyone">Everyone in the room</option>
                <option value="owner">Only me</option>
              </select>
            </div>
            <button type="button" onClick={createRoom} disabled={busy}>
              Create watch room
            </button>
          </div>
        </>
      )}

      {inRoom && (
        <>
          <p>
            Room <strong class="remote-code">{room}</strong>
            {creator && <> · created by {isCreator ? "you" : creator.username}</>}
          </p>
          {controlText && <p class="remote-control-text">{controlText}</p>}
          <div class="field">
            <label for="remote-link">Room link</label>
            <div class="row">
              <input id="remote-link" readOnly value={roomUrl} class="remote-link" onFocus={(e) => e.currentTarget.select()} />
              <button
                type="button"
                class="secondary"
                onClick={async () => {
                  const ok = await copyText(roomUrl, document.getElementById("remote-link") as HTMLInputElement | null);
                  setCopied(ok ? "Room link copied." : "Copy the link from the field.");
                }}
              >
                Copy link
              </button>
            </div>
            <small class="hint">
              Anyone with <a href={roomHash}>this link</a> joins the room and watches in step.
            </small>
          </div>
          <h3 id="remote-members">
            People here{remote.count > 0 && ` (${remote.count})`}
          </h3>
          {remote.members.length > 0 ? (
            <MemberList label="Room members" members={remote.members} count={remote.count} device={remote.device} state={remote.state} inRoom lastBy={remote.lastBy} />
          ) : (
            <p class="hint">Nobody yet.</p>
          )}
          <div class="row">
            <button type="button" class="secondary" onClick={leaveRoom}>
              Leave room
            </button>
            {isCreator && (
              <button type="button" class="danger" onClick={endRoom} disabled={busy}>
                End room for everyone
              </button>
            )}
          </div>
        </>
      )}
      <ErrorBox error={actionError} />
    </section>
  );
}
