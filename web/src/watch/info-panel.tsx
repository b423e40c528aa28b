/**
 * The video's information (`GET /api/videos/{id}/info/`): size, duration, resolution, frame
 * rate, codecs, languages, subtitles, and each format (rung) with its progressive MP4 link when
 * the server keeps one.
 */
import { api } from "../api/session.js";
import type { VideoDetail } from "../player/player.js";
import { ErrorBox, Loading, useLoad } from "../ui/components.js";
import { formatDuration, formatSize } from "../ui/format.js";
import { languageName } from "./text.js";

const bitrate = (b: number | null | undefined) => (b ? `${(b / 1_000_000).toFixed(b < 1_000_000 ? 2 : 1)} Mbit/s` : "—");
const names = (codes: readonly string[]) => (codes.length ? codes.map(languageName).join(", ") : "none");

export function InfoPanel(props: { video: VideoDetail }) {
  const { video } = props;
  const info = useLoad(() => api("get", "/api/videos/{id}/info/", { params: { id: video.id } }), [video.id]);
  const i = info.data;
  return (
    <section class="info" aria-labelledby="info-title">
      <h2 id="info-title">Information</h2>
      {info.loading && <Loading />}
      <ErrorBox error={info.error} />
      {i && (
        <>
          <dl class="info-list">
            <dt>Size</dt>
            <dd>{formatSize(i.size_bytes)}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(i.duration_seconds ?? video.duration)}</dd>
            <dt>Resolution</dt>
            <dd>{i.width && i.height ? `${i.width}×${i.height}` : "—"}</dd>
            <dt>Frame rate</dt>
            <dd>{i.fps ? `${Math.round(i.fps * 100) / 100} fps` : "—"}</dd>
            <dt>Video codec</dt>
            <dd>{i.video_codec ?? "—"}</dd>
            <dt>Container</dt>
            <dd>{i.container ?? "—"}</dd>
            <dt>Bitrate</dt>
            <dd>{bitrate(i.bitrate)}</dd>
            <dt>Audio languages</dt>
            <dd>{names(i.languages)}</dd>
            <dt>Subtitles</dt>
            <dd>{i.has_subtitles ? `yes: ${names(i.subtitle_languages)}` : "no"}</dd>
          </dl>
          {i.renditions.length > 0 && (
            <>
              <h3>Formats</h3>
              <ul class="formats">
                {i.renditions.map((r) => {
                  const mp4 = video.formats.find((f) => f.quality === r.quality)?.mp4_url;
                  return (
                    <li key={r.quality}>
                      {mp4 ? <a href={mp4}>{r.quality} MP4</a> : <strong>{r.quality}</strong>} {r.width}×{r.height} · {bitrate(r.bitrate)} · {formatSize(r.size_bytes)}
                    </li>
                  );
                })}
              </ul>
            </>
          )}
        </>
      )}
    </section>
  );
}
