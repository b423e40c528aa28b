/**
 * Test and bench fixture: a real converted clip in the transcoder's storage layout, made with
 * plain ffmpeg from lavfi sources (testsrc2 + two sine tones): two video rungs (240p, 180p) as
 * 1 s MPEG-TS segments, two audio renditions (en, fr), one WebVTT subtitle track, a master
 * playlist tying them together, and a progressive MP4 per rung. `storeFixture` copies it under
 * `videos/<id>/` and returns the matching TranscodeResult for the video row's `media` column.
 */
import { execFile } from "node:child_process";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type { AppContext } from "../../context.js";
import { newId, nowIso } from "../../lib/ids.js";
import type { Storage } from "../../platform/storage/storage.js";
import type { TranscodeResult } from "../../contracts/transcode.messages.js";
import type { VideoRow } from "../videos/index.js";

const run = promisify(execFile);

export interface FixtureOptions {
  durationS?: number;
  segmentS?: number;
}

export const FIXTURE_RUNGS = [
  { quality: "240p", width: 320, height: 240 },
  { quality: "180p", width: 240, height: 180 },
] as const;
export const FIXTURE_AUDIO = [
  { language: "en", name: "English", freq: 440 },
  { language: "fr", name: "français", freq: 660 },
] as const;

/** The ffmpeg argv that writes every media file of the fixture into `dir` (pure). */
export function fixtureFfmpegArgs(dir: string, opts: FixtureOptions = {}): string[] {
  const d = opts.durationS ?? 2;
  const seg = opts.segmentS ?? 1;
  const fps = 25;
  const x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "baseline", "-pix_fmt", "yuv420p", "-g", String(fps * seg), "-keyint_min", String(fps * seg), "-sc_threshold", "0"];
  const hls = (sub: string) => ["-f", "hls", "-hls_time", String(seg), "-hls_playlist_type", "vod", "-hls_segment_filename", path.join(dir, sub, "seg_%03d.ts"), path.join(dir, sub, "index.m3u8")];
  const args = ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=320x240:rate=${fps}:duration=${d}`];
  for (const a of FIXTURE_AUDIO) args.push("-f", "lavfi", "-i", `sine=frequency=${a.freq}:sample_rate=48000:duration=${d}`);
  const n = FIXTURE_RUNGS.length;
  const labels = FIXTURE_RUNGS.flatMap((_, i) => [`h${i}`, `m${i}`]);
  const scales = FIXTURE_RUNGS.map((r, i) => `[h${i}]scale=${r.width}:${r.height}[hs${i}];[m${i}]scale=${r.width}:${r.height}[ms${i}]`);
  args.push("-filter_complex", `[0:v]split=${n * 2}${labels.map((l) => `[${l}]`).join("")};${scales.join(";")}`);
  FIXTURE_RUNGS.forEach((r, i) => args.push("-map", `[hs${i}]`, ...x264, "-an", ...hls(r.quality)));
  FIXTURE_AUDIO.forEach((a, i) => args.push("-map", `${i + 1}:a`, "-vn", "-c:a", "aac", "-b:a", "64k", "-ac", "1", ...hls(`audio/${a.language}`)));
  FIXTURE_RUNGS.forEach((r, i) => args.push("-map", `[ms${i}]`, "-map", "1:a", ...x264, "-c:a", "aac", "-b:a", "64k", "-ac", "1", "-movflags", "+faststart", path.join(dir, "mp4", `${r.quality}.mp4`)));
  return args;
}

function vtt(durationS: number): string {
  let out = "WEBVTT\n";
  for (let t = 0; t < durationS; t++) out += `\n${cue(t)} --> ${cue(Math.min(t + 1, durationS))}\nSubtitle ${t + 1}\n`;
  return out;
}

function cue(s: number): string {
  return `00:00:${String(Math.floor(s)).padStart(2, "0")}.000`;
}

function masterPlaylist(): string {
  const lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"];
  for (const a of FIXTURE_AUDIO) {
    lines.push(`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="${a.name}",LANGUAGE="${a.language}",DEFAULT=${a.language === "en" ? "YES" : "NO"},AUTOSELECT=YES,CHANNELS="1",URI="audio/${a.language}/index.m3u8"`);
  }
  lines.push('#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=YES,URI="subs/en/index.m3u8"');
  FIXTURE_RUNGS.forEach((r, i) => {
    const bw = 400_000 - i * 100_000;
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${bw},AVERAGE-BANDWIDTH=${bw - 50_000},RESOLUTION=${r.width}x${r.height},CODECS="avc1.42c015,mp4a.40.2",AUDIO="aud",SUBTITLES="subs"`);
    lines.push(`${r.quality}/index.m3u8`);
  });
  return lines.join("\n") + "\n";
}

/** Builds the fixture into `dir` (which must be empty or absent). Takes about a second. */
export async function buildFixture(dir: string, opts: FixtureOptions = {}): Promise<void> {
  const d = opts.durationS ?? 2;
  for (const sub of [...FIXTURE_RUNGS.map((r) => r.quality), ...FIXTURE_AUDIO.map((a) => `audio/${a.language}`), "subs/en", "mp4"]) {
    await mkdir(path.join(dir, sub), { recursive: true });
  }
  await run("ffmpeg", fixtureFfmpegArgs(dir, opts), { maxBuffer: 16 * 1024 * 1024 });
  await writeFile(path.join(dir, "subs/en/subs.vtt"), vtt(d));
  await writeFile(
    path.join(dir, "subs/en/index.m3u8"),
    `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:${Math.ceil(d)}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:${d.toFixed(3)},\nsubs.vtt\n#EXT-X-ENDLIST\n`,
  );
  await writeFile(path.join(dir, "master.m3u8"), masterPlaylist());
}

/** Every file of the fixture, relative to `dir`, slash-separated. */
export async function fixtureFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (sub: string) => {
    for (const e of await readdir(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(rel);
      else out.push(rel);
    }
  };
  await walk("");
  return out.sort();
}

/** Where a fixture file goes: `mp4/…` under `videos/<id>/mp4/`, everything else under `videos/<id>/hls/`. */
export function fixtureKey(videoId: string, rel: string): string {
  return rel.startsWith("mp4/") ? `videos/${videoId}/${rel}` : `videos/${videoId}/hls/${rel}`;
}

/** Copies the fixture into storage for `videoId` and returns the TranscodeResult describing it. */
export async function storeFixture(storage: Storage, videoId: string, dir: string, opts: FixtureOptions = {}): Promise<TranscodeResult> {
  for (const rel of await fixtureFiles(dir)) await storage.putFile(fixtureKey(videoId, rel), path.join(dir, rel));
  const hls = `videos/${videoId}/hls/`;
  const renditions = [];
  for (const [i, r] of FIXTURE_RUNGS.entries()) {
    const size = (await stat(path.join(dir, "mp4", `${r.quality}.mp4`))).size;
    renditions.push({
      quality: r.quality,
      width: r.width,
      height: r.height,
      bitrate: 300_000 - i * 100_000,
      bandwidth: 400_000 - i * 100_000,
      averageBandwidth: 350_000 - i * 100_000,
      codecs: "avc1.42c015,mp4a.40.2",
      fps: 25,
      playlistKey: `${hls}${r.quality}/index.m3u8`,
      mp4Key: `videos/${videoId}/mp4/${r.quality}.mp4`,
      sizeBytes: size,
    });
  }
  return {
    masterKey: `${hls}master.m3u8`,
    durationS: opts.durationS ?? 2,
    renditions,
    audioTracks: FIXTURE_AUDIO.map((a) => ({ language: a.language, name: a.name, isDefault: a.language === "en", playlistKey: `${hls}audio/${a.language}/index.m3u8`, codecs: "mp4a.40.2", bitrate: 64_000 })),
    subtitleTracks: [{ language: "en", name: "English", vttKey: `${hls}subs/en/subs.vtt`, playlistKey: `${hls}subs/en/index.m3u8` }],
    thumbnails: { posterKey: null, candidateKeys: [], storyboardKey: null, storyboardVttKey: null },
  };
}

export interface FixtureVideo {
  ownerId: string;
  visibility?: "public" | "unlisted" | "private";
  media?: TranscodeResult | null;
  durationS?: number | null;
  description?: string;
  chapters?: { title: string; start: number }[] | null;
  id?: string;
}

/** Inserts a ready video row (status `ready`, playable) with the given media JSON. */
export async function insertReadyVideo(ctx: Pick<AppContext, "db">, v: FixtureVideo): Promise<VideoRow> {
  const now = nowIso();
  const row: VideoRow = {
    id: v.id ?? newId(),
    owner_id: v.ownerId,
    title: "Streaming fixture",
    description: v.description ?? "",
    visibility: v.visibility ?? "public",
    language: "en",
    original_filename: "clip.mp4",
    size_bytes: 1000,
    status: "ready",
    playable: 1,
    failure_code: null,
    failure_message: null,
    progress: null,
    source_key: null,
    probe: null,
    duration_s: v.durationS === undefined ? (v.media?.durationS ?? 2) : v.durationS,
    media: v.media ? JSON.stringify(v.media) : null,
    media_bytes: 0,
    playback_epoch: 0,
    chapters: v.chapters ? JSON.stringify(v.chapters) : null,
    poster_choice: null,
    custom_poster_key: null,
    views: 0,
    likes: 0,
    dislikes: 0,
    comments_enabled: 1,
    pinned_comment_id: null,
    created_at: now,
    updated_at: now,
    published_at: now,
  };
  await ctx.db.insertInto("videos").values(row).execute();
  return row;
}
