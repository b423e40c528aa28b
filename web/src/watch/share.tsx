/**
 * Share: copies a link to this moment, `${origin}/#/watch/{id}?t=<seconds>` (never a playback
 * token: the link is meant for others). The copy may be refused (ui/clipboard.ts), so the link
 * is also shown in a read-only field, selected, for copying by hand.
 */
import { useRef, useState } from "preact/hooks";
import type { PlayerHandle } from "../player/player-handle.js";
import { copyText } from "../ui/clipboard.js";

export function shareLink(videoId: string, seconds: number): string {
  return `${window.location.origin}/#/watch/${encodeURIComponent(videoId)}?t=${Math.max(0, Math.floor(seconds))}`;
}

export function ShareButton(props: { videoId: string; player: PlayerHandle | null }) {
  const [link, setLink] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const field = useRef<HTMLInputElement>(null);
  const share = async () => {
    const url = shareLink(props.videoId, props.player?.video.currentTime ?? 0);
    setLink(url);
    setStatus((await copyText(url, field.current)) ? "Link copied to the clipboard." : "Copy the link below.");
    // After the render that shows the field (the first share has none yet).
    window.setTimeout(() => field.current?.select(), 0);
  };
  return (
    <div class="share">
      <button type="button" class="secondary" onClick={() => void share()}>
        Share
      </button>
      <span class="share-status" role="status">
        {status}
      </span>
      {link && (
        <div class="field share-field">
          <label for="share-link">Link to this moment</label>
          <input id="share-link" ref={field} type="url" readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
        </div>
      )}
    </div>
  );
}
