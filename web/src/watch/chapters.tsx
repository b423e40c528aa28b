/**
 * The chapters as a list next to the player: each one seeks there, the one playing now is marked
 * (`aria-current`). The timeline shows the same chapters (the player's chapters track).
 */
import { useEffect, useState } from "preact/hooks";
import type { PlayerHandle } from "../player/player-handle.js";
import type { VideoDetail } from "../player/player.js";
import { formatClock } from "../ui/format.js";

export function ChapterList(props: { chapters: VideoDetail["chapters"]; player: PlayerHandle | null; onSeek: (s: number) => void }) {
  const { chapters, player } = props;
  const [current, setCurrent] = useState(-1);
  useEffect(() => {
    const video = player?.video;
    if (!video) return;
    const update = () => setCurrent(chapters.findLastIndex((c) => video.currentTime >= c.start));
    video.addEventListener("timeupdate", update);
    video.addEventListener("seeked", update);
    update();
    return () => {
      video.removeEventListener("timeupdate", update);
      video.removeEventListener("seeked", update);
    };
  }, [player, chapters]);
  if (!chapters.length) return null;
  return (
    <section class="chapters" aria-labelledby="chapters-title">
      <h2 id="chapters-title">Chapters</h2>
      <ol>
        {chapters.map((c, i) => (
          <li key={c.index}>
            <button type="button" class="link" aria-current={i === current ? "true" : undefined} onClick={() => props.onSeek(c.start)}>
              <span class="clock">{formatClock(c.start)}</span> {c.title}
            </button>
          </li>
        ))}
      </ol>
    </section>
  );
}
