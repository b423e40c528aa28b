/** Placeholder: the devices / watch-room panel that keeps this player in sync over ws/stream/{id}/. */
import type { PlayerHandle } from "./player-handle.js";

export interface RemotePanelProps {
  videoId: string;
  player: PlayerHandle | null;
  /** `?room=<code>` of the page's address: join that watch room. */
  room: string | null;
}

export function RemotePanel(_props: RemotePanelProps) {
  return null;
}
