/**
 * The bare player page at `/embed/{id}?t=<seconds>`, for other sites to frame: only the player
 * (the watch page's component), filling the viewport. No session is restored here: a framed
 * page gets no first-party cookies in most browsers, so it plays what anyone may see (public
 * and unlisted videos).
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, describeError } from "./api/client.js";
import { api } from "./api/session.js";
import { Player, type VideoDetail } from "./player/player.js";
import "./styles.css";

const id = window.location.pathname.split("/").filter(Boolean)[1] ?? "";
const t = Number(new URLSearchParams(window.location.search).get("t"));

function Embed() {
  const [video, setVideo] = useState<VideoDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api("get", "/api/videos/{id}/", { params: { id } })
      .then((v) => {
        setVideo(v);
        document.title = `${v.title} · vidflux`;
      })
      .catch(setError);
  }, []);
  if (error) {
    const missing = error instanceof ApiError && error.status === 404;
    return (
      <p class="embed-message" role="alert">
        {missing ? "This video is not available." : describeError(error)}
      </p>
    );
  }
  if (!video) {
    return (
      <p class="embed-message" role="status">
        Loading…
      </p>
    );
  }
  if (!video.playable) {
    return (
      <p class="embed-message" role="status">
        This video is not ready yet.
      </p>
    );
  }
  return (
    <>
      <h1 class="visually-hidden">{video.title}</h1>
      <Player video={video} start={Number.isFinite(t) && t > 0 ? t : undefined} fill />
    </>
  );
}

render(<Embed />, document.getElementById("app")!);
