/**
 * `#/watch/{id}?t=<seconds>&room=<code>`: the player, its chapters, the reactions and share
 * button, the description and comments (times in them seek the player), the information panel,
 * and the remote-control / watch-room panel driving the same player through its handle.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError } from "../api/client.js";
import { api } from "../api/session.js";
import { Player, type VideoDetail } from "../player/player.js";
import type { PlayerHandle } from "../player/player-handle.js";
import { RemotePanel } from "../player/remote-panel.js";
import { ErrorBox, Loading, Page, useLoad } from "../ui/components.js";
import { formatCount } from "../ui/format.js";
import { describeFailure } from "../upload/failures.js";
import { ChapterList } from "../watch/chapters.js";
import { Comments } from "../watch/comments.js";
import { InfoPanel } from "../watch/info-panel.js";
import { openLive } from "../watch/live.js";
import { Reactions } from "../watch/reactions.js";
import { ShareButton } from "../watch/share.js";
import { TimeText } from "../watch/text.js";

/** `?t=` as seconds (`12`, `12.5`); anything else is no start time. */
export function startTime(query: URLSearchParams): number | undefined {
  const t = Number(query.get("t"));
  return Number.isFinite(t) && t > 0 ? t : undefined;
}

const STATUS_TEXT: Record<string, string> = {
  uploading: "This video is still being uploaded.",
  validating: "This video is being checked.",
  queued: "This video is waiting to be converted.",
  processing: "This video is being converted.",
  failed: "This video could not be converted.",
};

function Watch(props: { video: VideoDetail; query: URLSearchParams; reload: () => void }) {
  const { video } = props;
  const [handle, setHandle] = useState<PlayerHandle | null>(null);
  const live = useMemo(() => openLive(video), [video.id]);
  useEffect(() => () => live.close(), [live]);

  // A changed `?t=` on the same page (an edited address, Back) seeks there.
  const t = startTime(props.query);
  const [initialStart] = useState(t);
  useEffect(() => {
    if (t !== undefined && t !== initialStart) handle?.seek(t);
  }, [t]);

  const seek = (s: number) => {
    if (!handle) return;
    handle.seek(s);
    void handle.video.play().catch(() => undefined);
    document.querySelector(".player")?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  };
  const owner = video.owner.display_name || video.owner.username;
  const published = video.published ? new Date(video.published).toLocaleDateString() : "not published";

  return (
    <Page title={video.title} wide>
      <div class="watch">
        <div class="watch-main">
          {video.playable ? (
            <Player key={video.id} video={video} start={initialStart} onHandle={setHandle} />
          ) : (
            <div class="not-playable" role="status">
              <p>{STATUS_TEXT[video.status] ?? "This video cannot be played yet."}</p>
              {video.status === "failed" && <p class="error">{describeFailure(video.failure_code, video.failure_message)}</p>}
              {video.status !== "failed" && (
                <button type="button" class="secondary" onClick={props.reload}>
                  Check again
                </button>
              )}
            </div>
          )}
          <div class="watch-meta">
            <p class="muted">
              {owner} · {formatCount(video.views)} {video.views === 1 ? "view" : "views"} · {published}
              {video.visibility !== "public" && <span class="badge">{video.visibility}</span>}
            </p>
            <div class="row">
              <Reactions video={video} live={live} />
              {video.playable && <ShareButton videoId={video.id} player={handle} />}
            </div>
          </div>
          {video.description && (
            <p class="description">
              <TimeText text={video.description} videoId={video.id} duration={video.duration} onSeek={seek} />
            </p>
          )}
          {video.playable && <RemotePanel videoId={video.id} player={handle} room={props.query.get("room")} playbackToken={video.playback_token ?? null} />}
          <Comments video={video} live={live} onSeek={seek} />
        </div>
        <aside class="watch-side" aria-label="About this video">
          <ChapterList chapters={video.chapters} player={handle} onSeek={seek} />
          <InfoPanel video={video} />
        </aside>
      </div>
    </Page>
  );
}

export default function WatchPage(props: { parts: string[]; query: URLSearchParams }) {
  const id = props.parts[0] ?? "";
  // A reload ("Check again") keeps the data, so the page and its player stay while it asks.
  const detail = useLoad(() => api("get", "/api/videos/{id}/", { params: { id } }), [id]);
  if (detail.error) {
    const missing = detail.error instanceof ApiError && detail.error.status === 404;
    return (
      <Page title={missing ? "Video not found" : "Video"}>
        {missing ? <p>This video does not exist, or you may not see it.</p> : <ErrorBox error={detail.error} />}
        <p>
          <a href="#/">Back to the catalogue</a>
        </p>
      </Page>
    );
  }
  if (!detail.data) {
    return (
      <Page title="Video">
        <Loading />
      </Page>
    );
  }
  return <Watch video={detail.data} query={props.query} reload={detail.reload} />;
}
