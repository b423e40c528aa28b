import { describe, expect, it } from "vitest";
import { choosePoster, isNearBlack, mpegtsFirstPts, planSubtitles, subtitlePlaylist, thumbnailSize, thumbnailTimes, withTimestampMap } from "./extras.js";
import { buildSubtitleArgs, buildThumbnailArgs } from "./ffmpeg-args.js";
import { probeOf, videoStream } from "./transcoder.fixtures.js";

const gray = (v: number) => new Uint8Array(256).fill(v);

describe("thumbnails", () => {
  it("candidate times and size", () => {
    expect(thumbnailTimes(60)).toEqual([6, 9, 15, 30, 45]);
    expect(thumbnailTimes(3)).toEqual([0.3, 0.45, 0.75, 1.5, 2.25]);
    expect(thumbnailTimes(0)).toEqual([0]);
    expect(thumbnailSize({ width: 1920, height: 1080 })).toEqual({ width: 1280, height: 720 });
    expect(thumbnailSize({ width: 1080, height: 1920 })).toEqual({ width: 720, height: 1280 });
    expect(thumbnailSize({ width: 426, height: 240 })).toEqual({ width: 426, height: 240 });
  });

  it("the poster is the first candidate that is not near-black, else the brightest", () => {
    expect(isNearBlack(gray(2))).toBe(true);
    expect(isNearBlack(gray(31))).toBe(true);
    expect(isNearBlack(gray(32))).toBe(false);
    expect(isNearBlack(new Uint8Array(0))).toBe(true);
    expect(choosePoster([gray(100), gray(200)])).toBe(0);
    expect(choosePoster([gray(0), null, gray(5), gray(120), gray(200)])).toBe(3);
    expect(choosePoster([gray(3), gray(20), gray(10)])).toBe(1);
    expect(choosePoster([null, null])).toBeNull();
  });

  it("builds the thumbnail command (all candidates in one process, each input fenced like the encode's, without -t)", () => {
    const probe = probeOf(videoStream({ width: 1280, height: 720, index: 1 }));
    const shots = [
      { timeS: 0.3, jpeg: "/j/c0.jpg", gray: "/j/c0.gray" },
      { timeS: 1.5, jpeg: "/j/c1.jpg", gray: "/j/c1.gray" },
    ];
    expect(buildThumbnailArgs(probe, shots, { width: 1280, height: 720 }, "/j/src")).toEqual([
      "-y", "-v", "error",
      "-protocol_whitelist", "file", "-format_whitelist", "mov", "-f", "mov", "-max_pixels", "1081344", "-ss", "0.300", "-i", "/j/src",
      "-protocol_whitelist", "file", "-format_whitelist", "mov", "-f", "mov", "-max_pixels", "1081344", "-ss", "1.500", "-i", "/j/src",
      "-filter_complex",
      "[0:1]scale=1280:720,setsar=1,split=2[t0][p0];[p0]scale=16:16,format=gray[g0];" +
        "[1:1]scale=1280:720,setsar=1,split=2[t1][p1];[p1]scale=16:16,format=gray[g1]",
      "-map", "[t0]", "-frames:v", "1", "-q:v", "3", "-f", "image2", "-update", "1", "/j/c0.jpg",
      "-map", "[g0]", "-frames:v", "1", "-f", "rawvideo", "/j/c0.gray",
      "-map", "[t1]", "-frames:v", "1", "-q:v", "3", "-f", "image2", "-update", "1", "/j/c1.jpg",
      "-map", "[g1]", "-frames:v", "1", "-f", "rawvideo", "/j/c1.gray",
    ]);
  });
});

describe("subtitles", () => {
  it("plans text streams only, without the upload's default language", () => {
    const probe = probeOf(videoStream({ width: 640, height: 360 }), [], {
      subtitles: [
        { index: 2, codec: "subrip", language: "fre", title: null, isText: true },
        { index: 3, codec: "hdmv_pgs_subtitle", language: "eng", title: null, isText: false },
        { index: 4, codec: "ass", language: null, title: "Signs", isText: true },
        { index: 5, codec: "mov_text", language: null, title: null, isText: true },
      ],
    });
    expect(planSubtitles(probe)).toEqual([
      { streamIndex: 2, language: "fr", name: "français", dir: "fr" },
      { streamIndex: 4, language: "und", name: "Signs", dir: "1" },
      { streamIndex: 5, language: "und", name: "Subtitles 3", dir: "2" },
    ]);
    expect(buildSubtitleArgs(probe, "/j/src", 2, "/j/s.vtt")).toEqual([
      "-y", "-v", "error",
      // 640 × 384 × 1.1; 3 s × 1.02 + 1
      "-protocol_whitelist", "file", "-format_whitelist", "mov", "-f", "mov", "-max_pixels", "270336", "-t", "4.060", "-i", "/j/src",
      "-map", "0:2", "-c:s", "webvtt", "-f", "webvtt", "/j/s.vtt",
    ]);
  });

  it("one-segment VOD playlist", () => {
    expect(subtitlePlaylist(12.34)).toBe(
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:13\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:12.340,\nsubs.vtt\n#EXT-X-ENDLIST\n",
    );
  });

  it("X-TIMESTAMP-MAP goes after the WEBVTT line, replacing an old one", () => {
    const vtt = "WEBVTT\n\n00:00.500 --> 00:01.500\nBonjour\n";
    expect(withTimestampMap(vtt, 126000)).toBe("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n00:00.500 --> 00:01.500\nBonjour\n");
    expect(withTimestampMap(withTimestampMap(vtt, 1), 2)).toBe(withTimestampMap(vtt, 2));
    expect(withTimestampMap("\uFEFFWEBVTT\r\n\r\n", 9)).toBe("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:9,LOCAL:00:00:00.000\n\n");
  });

  it("reads the first PES PTS of an MPEG-TS packet stream", () => {
    const pkt = (pid: number, pusi: boolean, payload: number[], adaptation = 0): number[] => {
      const p = [0x47, (pusi ? 0x40 : 0) | (pid >> 8), pid & 0xff, adaptation ? 0x30 : 0x10];
      if (adaptation) p.push(adaptation - 1, ...new Array<number>(adaptation - 1).fill(0));
      p.push(...payload);
      while (p.length < 188) p.push(0xff);
      return p;
    };
    // PTS 126000 = 0x1EC30: '0010' + bits 32..30 (0) + marker, then 15+15 bits with markers
    const pts = 126000;
    const ptsBytes = [0x21 | (((pts / 2 ** 30) & 0x7) << 1), (pts >> 22) & 0xff, (((pts >> 15) & 0x7f) << 1) | 1, (pts >> 7) & 0xff, ((pts & 0x7f) << 1) | 1];
    const pes = [0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, ...ptsBytes];
    const pat = pkt(0, true, [0, 0, 0xb0, 0x0d]);
    const ts = Uint8Array.from([...pat, ...pkt(0x100, true, pes, 8)]);
    expect(mpegtsFirstPts(ts)).toBe(126000);
    expect(mpegtsFirstPts(Uint8Array.from(pat))).toBeNull();
    expect(mpegtsFirstPts(Uint8Array.from([1, 2, 3]))).toBeNull();
  });
});
