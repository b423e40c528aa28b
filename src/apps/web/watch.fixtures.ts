/**
 * A converted video for the browser tests, fast: a 4 s lavfi clip with two audio languages
 * (English, French), English subtitles ("Hello" 0.2–1.8 s, "World" 2–3.8 s) and two chapters,
 * converted by the real transcode handler (the harness's LADDER, ultrafast) and applied to a
 * video row as the worker's `completed` message, without going through the queue.
 */
import path from "node:path";
import { makeClip, type ClipSpec } from "../../platform/media/media.fixtures.js";
import { probe } from "../../platform/media/probe.js";
import { createTranscodeHandler } from "../../services/transcoder/index.js";
import type { Harness } from "../../test/app-harness.js";
import { videoKeys } from "../videos/index.js";

export const CLIP: ClipSpec = {
  width: 426,
  height: 240,
  durationS: 4,
  fps: 25,
  audio: [{ language: "eng" }, { language: "fra", frequency: 880 }],
  subtitles: [{ language: "eng", cues: [[0.2, 1.8, "Hello"], [2, 3.8, "World"]] }],
};

export const CHAPTERS = [
  { title: "Start", start: 0 },
  { title: "Second half", start: 2 },
];

export interface ConvertOptions {
  ownerId: string;
  /** A directory of the test's own (the clip and the conversion's work files go there). */
  dir: string;
  title?: string;
  description?: string;
  visibility?: "public" | "unlisted" | "private";
  clip?: ClipSpec;
}

export async function convertedVideo(h: Harness, opts: ConvertOptions): Promise<string> {
  const name = `clip-${Math.random().toString(36).slice(2, 8)}`;
  const clip = await makeClip(h.ctx.media, path.join(opts.dir, `${name}.mp4`), opts.clip ?? CLIP);
  const probed = await probe(h.ctx.media, clip, { timeoutS: 30 });
  const mod = h.domains.videos;
  const v = await mod.videos.create({
    ownerId: opts.ownerId,
    title: opts.title ?? "E2E clip",
    description: opts.description ?? "Made by lavfi.",
    visibility: opts.visibility ?? "public",
    language: "en",
    originalFilename: "clip.mp4",
    sizeBytes: probed.sizeBytes,
  });
  const sourceKey = videoKeys.original(v.id);
  await h.ctx.storage.putFile(sourceKey, clip);
  await mod.repo.update(v.id, { status: "processing", source_key: sourceKey, probe: JSON.stringify(probed), chapters: JSON.stringify(CHAPTERS) });
  const m = h.config.media;
  const transcode = createTranscodeHandler({ storage: h.ctx.storage, tools: h.ctx.media, workDir: path.join(opts.dir, `work-${name}`) });
  const result = await transcode(
    {
      videoId: v.id,
      sourceKey,
      outputPrefix: videoKeys.prefix(v.id),
      probe: probed,
      options: { ladder: m.ladder, maxFps: m.maxFps, segmentS: m.hlsSegmentS, segmentType: m.hlsSegmentType, mp4: m.mp4Renditions, preset: m.preset, mode: m.transcodeMode, timeoutS: 120, defaultLanguage: "en" },
    },
    { jobId: `transcode-${v.id}`, attempt: 1, signal: new AbortController().signal, progress: async () => undefined },
  );
  await mod.results.apply({ kind: "completed", name: "video.transcode", jobId: `transcode-${v.id}`, result });
  return v.id;
}
