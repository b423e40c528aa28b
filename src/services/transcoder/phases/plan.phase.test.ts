import { describe, expect, it } from "vitest";
import { TranscodeError } from "../../../contracts/transcode.messages.js";
import { probeOf, videoStream } from "../transcoder.fixtures.js";
import { BILINGUAL_720P, jobOf } from "./phases.fixtures.js";
import { planTranscode } from "./plan.phase.js";

describe("plan phase", () => {
  it("ladder, audio renditions, dirs, keys and the progress share", () => {
    const plan = planTranscode(jobOf());
    expect(plan.rungs.map((r) => [r.quality, r.width, r.height, r.fps, r.videoBitrate])).toEqual([
      ["240p", 426, 240, 30, 400_000],
      ["480p", 854, 480, 30, 1_200_000],
      ["720p", 1280, 720, 30, 2_800_000],
    ]);
    expect(plan.audio).toEqual([
      { streamIndex: 1, language: "en", name: "English", dir: "en", isDefault: true },
      { streamIndex: 2, language: "fr", name: "français", dir: "fr", isDefault: false },
    ]);
    expect(plan).toMatchObject({
      defaultAudio: 0,
      durationS: 3,
      dirs: ["hls/240p", "hls/480p", "hls/720p", "hls/audio/en", "hls/audio/fr"],
      prefix: "videos/v1/",
      masterKey: "videos/v1/hls/master.m3u8",
      transcodeShare: 90,
    });
  });

  it("without MP4s, audio or a known duration", () => {
    const plan = planTranscode(jobOf(probeOf(videoStream({ width: 320, height: 240 }), [], { durationS: 0 }), { mp4: false }));
    expect(plan).toMatchObject({ audio: [], defaultAudio: -1, durationS: null, dirs: ["hls/240p"], transcodeShare: 97 });
  });

  it("a source without video is a failure no retry can fix", () => {
    let err: unknown = null;
    try {
      planTranscode(jobOf({ ...BILINGUAL_720P, video: null }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TranscodeError);
    expect(err).toMatchObject({ code: "transcode_failed", retryable: false, message: "buildLadder: the source has no video stream" });
  });
});
