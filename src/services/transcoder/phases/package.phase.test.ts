import { describe, expect, it } from "vitest";
import { measureRenditions } from "./package.phase.js";
import { jobOf } from "./phases.fixtures.js";
import { planTranscode } from "./plan.phase.js";

const video = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg_00000.ts\n#EXTINF:2.0,\nseg_00001.ts\n#EXTINF:1.0,\nseg_00002.ts\n#EXT-X-ENDLIST\n";
const audio = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg_00000.ts\n#EXTINF:2.0,\nseg_00001.ts\n#EXT-X-ENDLIST\n";
const SIZES = new Map([
  ["hls/240p/seg_00000.ts", 100_000],
  ["hls/240p/seg_00001.ts", 50_000],
  ["hls/240p/seg_00002.ts", 25_000],
  ["hls/audio/en/seg_00000.ts", 32_000],
  ["hls/audio/en/seg_00001.ts", 32_000],
]);

describe("package phase: measures", () => {
  it("each rendition from its final playlist and its files' sizes (by path under the prefix)", () => {
    const plan = planTranscode(jobOf(undefined, { ladder: [240, 480] }));
    const m = measureRenditions(plan, { "hls/240p": video, "hls/audio/en": audio }, (rel) => SIZES.get(rel) ?? 0);
    expect(m).toEqual({
      video: {
        // 175 kB over 5 s; the peak window is the first 2 s segment (100 kB)
        "240p": { peak: 400_000, average: 280_000, durationS: 5, bytes: 175_000 },
        // no final playlist: nothing measured
        "480p": { peak: 0, average: 0, durationS: 0, bytes: 0 },
      },
      audio: [
        { peak: 128_000, average: 128_000, durationS: 4, bytes: 64_000 },
        { peak: 0, average: 0, durationS: 0, bytes: 0 },
      ],
    });
  });
});
