/**
 * Like and dislike with live counts: the counts follow the video's live channel (every viewer's
 * reactions), the buttons show the viewer's own reaction (`aria-pressed`). Pressing the pressed
 * one removes it. Signed out, pressing leads to sign-in and back.
 */
import { useEffect, useState } from "preact/hooks";
import { describeError } from "../api/client.js";
import { api, me } from "../api/session.js";
import { loginHref } from "../account/guard.js";
import { navigate } from "../router.js";
import { formatCount } from "../ui/format.js";
import type { VideoDetail } from "../player/player.js";
import type { Live } from "./live.js";

type Kind = "like" | "dislike";

async function send(id: string, kind: Kind, remove: boolean) {
  const params = { id };
  if (kind === "like") return remove ? api("delete", "/api/videos/{id}/like/", { params }) : api("post", "/api/videos/{id}/like/", { params, body: {} });
  return remove ? api("delete", "/api/videos/{id}/dislike/", { params }) : api("post", "/api/videos/{id}/dislike/", { params, body: {} });
}

/** A thumb icon (drawn, not an emoji: no font on the system may have one). */
function Thumb(props: { down?: boolean }) {
  return (
    <svg class="thumb-icon" aria-hidden="true" viewBox="0 0 24 24" width="18" height="18" style={props.down ? { transform: "rotate(180deg)" } : undefined}>
      <path fill="currentColor" d="M2 21h4V9H2v12Zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1.2-.7v-2Z" />
    </svg>
  );
}

export function Reactions(props: { video: VideoDetail; live: Live }) {
  const { video } = props;
  const [counts, setCounts] = useState({ likes: video.likes, dislikes: video.dislikes });
  const [mine, setMine] = useState<Kind | null>(video.my_reaction);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => props.live.onCounts(setCounts), [props.live]);

  const react = async (kind: Kind) => {
    if (!me.value) {
      navigate(loginHref());
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const r = await send(video.id, kind, mine === kind);
      setCounts({ likes: r.likes, dislikes: r.dislikes });
      setMine(r.my_reaction);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const button = (kind: Kind, label: string, n: number) => (
    <button type="button" class="secondary reaction" aria-pressed={mine === kind} disabled={busy} onClick={() => void react(kind)}>
      <Thumb down={kind === "dislike"} /> {label} <span class="count">{formatCount(n)}</span>
    </button>
  );
  return (
    <div class="reactions" role="group" aria-label="Reactions">
      {button("like", "Like", counts.likes)}
      {button("dislike", "Dislike", counts.dislikes)}
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
