/**
 * Phase 5: the secondary outputs — thumbnail candidates and the poster, the storyboard, and text
 * subtitles as WebVTT renditions. A failing ffmpeg here only loses its output (a video without a
 * poster still plays); cancellation and the job timeout still fail the job.
 */
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import {
  candidateThumbRel,
  playlistIn,
  POSTER_REL,
  rungDir,
  STORYBOARD_IMAGE,
  STORYBOARD_IMAGE_REL,
  STORYBOARD_VTT_REL,
  SUBTITLE_FILE,
  subtitleDir,
} from "../../../contracts/media-layout.js";
import type { SubtitleTrackOutput, ThumbnailsOutput, TranscodeJob } from "../../../contracts/transcode.messages.js";
import { FfmpegError, runFfmpeg } from "../../../platform/media/ffmpeg-runner.js";
import { choosePoster, mpegtsFirstPts, planSubtitles, subtitlePlaylist, thumbnailSize, thumbnailTimes, withTimestampMap } from "../extras.js";
import { buildSubtitleArgs, buildThumbnailArgs } from "../ffmpeg-args.js";
import type { Rung } from "../ladder.js";
import { parseMediaPlaylist } from "../playlists.js";
import { buildStoryboardArgs, buildStoryboardVtt, planStoryboard } from "../storyboard.js";
import { fromFfmpeg } from "../transcode-errors.js";
import type { PhaseContext } from "./phase.types.js";
import type { RenditionMeasures } from "./package.phase.js";
import type { TranscodePlan } from "./plan.phase.js";

export interface ExtrasInput {
  job: TranscodeJob;
  plan: TranscodePlan;
  /** the local source */
  input: string;
  /** the encode's output dir (the storyboard decodes the lowest rung from there) */
  outDir: string;
  /** scratch dir for the extracted files */
  workDir: string;
  /** final playlists by rendition dir and their measures (package phase) */
  playlists: Readonly<Record<string, string>>;
  measures: RenditionMeasures;
}

export interface ExtrasOutput {
  thumbnails: ThumbnailsOutput;
  subtitles: SubtitleTrackOutput[];
  /**
   * 90 kHz PTS of the first MPEG-TS video segment, the X-TIMESTAMP-MAP every WebVTT rendition
   * needs (also subtitles uploaded later); null for fMP4.
   */
  mpegtsStartPts: number | null;
}

/** What the secondary ffmpeg runs share. */
interface Secondary {
  cx: PhaseContext;
  job: TranscodeJob;
  input: string;
  workDir: string;
}

/** Runs a secondary ffmpeg: false (and a warning) when ffmpeg fails, a TranscodeError when the job must fail. */
async function runSecondary(s: Secondary, args: string[], what: string, capS = 300): Promise<boolean> {
  try {
    await runFfmpeg(s.cx.tools, args, { timeoutS: Math.min(s.cx.remainingS(), capS), signal: s.cx.signal });
    return true;
  } catch (err) {
    if (err instanceof FfmpegError && err.code === "ffmpeg_failed") {
      s.cx.log?.warn({ videoId: s.job.videoId, err: err.message, stderr: err.stderrTail.slice(-500) }, `${what} failed`);
      return false;
    }
    throw fromFfmpeg(err, what);
  }
}

/** Candidate frames as JPEGs plus their tiny grayscale copies (null where ffmpeg wrote nothing). */
async function grabCandidates(s: Secondary, top: Rung, durationS: number): Promise<Array<{ jpeg: Buffer; gray: Uint8Array } | null>> {
  const size = thumbnailSize(top);
  const shots = thumbnailTimes(durationS).map((timeS, i) => ({ timeS, jpeg: path.join(s.workDir, `c${i}.jpg`), gray: path.join(s.workDir, `c${i}.gray`) }));
  const probe = s.job.probe;
  // One ffmpeg for every candidate (process start-up dominates for small frames); if it fails
  // as a whole (one bad seek), each candidate alone, so one broken spot costs only its frame.
  if (!(await runSecondary(s, buildThumbnailArgs(probe, shots, size, s.input), "thumbnails"))) {
    for (const shot of shots) await runSecondary(s, buildThumbnailArgs(probe, [shot], size, s.input), `thumbnail at ${shot.timeS} s`);
  }
  return Promise.all(
    shots.map(async (shot) => {
      const [jpeg, gray] = await Promise.all([readFile(shot.jpeg).catch(() => null), readFile(shot.gray).catch(() => null)]);
      // A seek past the last frame writes nothing.
      return jpeg !== null && jpeg.length > 0 && gray !== null && gray.length > 0 ? { jpeg, gray } : null;
    }),
  );
}

/**
 * Candidate thumbnails (`thumbs/c<N>.jpg`, see THUMBNAIL_FRACTIONS) and the poster
 * (`thumbs/poster.jpg`): the first candidate that is not near-black.
 */
async function makeThumbnails(s: Secondary, top: Rung, durationS: number): Promise<Pick<ThumbnailsOutput, "posterKey" | "candidateKeys">> {
  const shots = await grabCandidates(s, top, durationS);
  const { publisher } = s.cx;
  const candidateKeys: string[] = [];
  for (const shot of shots) {
    if (!shot) continue;
    const rel = candidateThumbRel(candidateKeys.length);
    await publisher.put(rel, shot.jpeg);
    candidateKeys.push(publisher.key(rel));
  }
  const chosen = choosePoster(shots.map((shot) => shot?.gray ?? null));
  const poster = chosen === null ? null : shots[chosen];
  if (!poster) return { posterKey: null, candidateKeys };
  await publisher.put(POSTER_REL, poster.jpeg);
  return { posterKey: publisher.key(POSTER_REL), candidateKeys };
}

/**
 * The storyboard (`thumbs/storyboard.jpg` + `thumbs/storyboard.vtt`, see storyboard.ts) from the
 * local playlist of `rung`.
 */
async function makeStoryboard(s: Secondary, rung: Rung, playlist: string, durationS: number): Promise<Pick<ThumbnailsOutput, "storyboardKey" | "storyboardVttKey">> {
  const none = { storyboardKey: null, storyboardVttKey: null };
  const plan = planStoryboard(durationS, rung);
  if (!plan) return none;
  const out = path.join(s.workDir, STORYBOARD_IMAGE);
  // A full decode of the lowest rung runs at hundreds of times real time; the cap only has to
  // allow for very long videos.
  if (!(await runSecondary(s, buildStoryboardArgs(playlist, plan, out), "storyboard", Math.max(300, durationS / 20)))) return none;
  const jpeg = await readFile(out).catch(() => null);
  if (!jpeg || jpeg.length === 0) return none;
  const { publisher } = s.cx;
  await publisher.put(STORYBOARD_IMAGE_REL, jpeg);
  await publisher.put(STORYBOARD_VTT_REL, buildStoryboardVtt(plan));
  return { storyboardKey: publisher.key(STORYBOARD_IMAGE_REL), storyboardVttKey: publisher.key(STORYBOARD_VTT_REL) };
}

/**
 * Text subtitle streams as WebVTT renditions: `hls/subs/<lang-or-index>/subs.vtt` and its
 * one-segment playlist. With MPEG-TS media (`pts` not null) each file gets the X-TIMESTAMP-MAP
 * matching the first video segment's PTS (see withTimestampMap).
 */
async function makeSubtitles(s: Secondary, durationS: number, pts: number | null): Promise<SubtitleTrackOutput[]> {
  const out: SubtitleTrackOutput[] = [];
  const { publisher } = s.cx;
  for (const sub of planSubtitles(s.job.probe)) {
    const file = path.join(s.workDir, `sub-${sub.streamIndex}.vtt`);
    if (!(await runSecondary(s, buildSubtitleArgs(s.job.probe, s.input, sub.streamIndex, file), `subtitle stream ${sub.streamIndex}`))) continue;
    let vtt = await readFile(file, "utf8");
    if (pts !== null) vtt = withTimestampMap(vtt, pts);
    const dir = subtitleDir(sub.dir);
    await publisher.put(`${dir}/${SUBTITLE_FILE}`, vtt);
    await publisher.put(playlistIn(dir), subtitlePlaylist(durationS));
    out.push({ language: sub.language, name: sub.name, vttKey: publisher.key(`${dir}/${SUBTITLE_FILE}`), playlistKey: publisher.key(playlistIn(dir)) });
  }
  return out;
}

/** PTS of the top rung's first MPEG-TS segment (126000, ffmpeg's 1.4 s, when unreadable); null for fMP4. */
async function readMpegtsStartPts(x: ExtrasInput): Promise<number | null> {
  if (x.job.options.segmentType !== "mpegts") return null;
  const topDir = rungDir(x.plan.rungs[x.plan.rungs.length - 1]!.quality);
  const first = parseMediaPlaylist(x.playlists[topDir] ?? "").segments[0]?.uri;
  if (!first) return null;
  return mpegtsFirstPts(await readFile(path.join(x.outDir, topDir, first))) ?? 126_000;
}

export async function extrasPhase(cx: PhaseContext, x: ExtrasInput): Promise<ExtrasOutput> {
  cx.reporter.send("thumbnails", 98, null, true);
  await mkdir(x.workDir, { recursive: true });
  const s: Secondary = { cx, job: x.job, input: x.input, workDir: x.workDir };
  const { rungs, durationS } = x.plan;
  const lowest = rungs[0]!;
  const top = rungs[rungs.length - 1]!;
  const measured = (r: Rung) => x.measures.video[r.quality]?.durationS || (durationS ?? 0);
  const thumbs = await makeThumbnails(s, top, durationS ?? 0);
  // The storyboard decodes the lowest rung (already upright and square-pixel, and by far the
  // cheapest stream to decode in full) over its measured duration.
  const storyboard = await makeStoryboard(s, lowest, path.join(x.outDir, playlistIn(rungDir(lowest.quality))), measured(lowest));
  // Kept in the result: subtitles uploaded later need the same X-TIMESTAMP-MAP.
  const mpegtsStartPts = await readMpegtsStartPts(x);
  const subtitles = await makeSubtitles(s, measured(top), mpegtsStartPts);
  return { thumbnails: { ...thumbs, ...storyboard }, subtitles, mpegtsStartPts };
}
