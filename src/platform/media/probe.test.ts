import { describe, expect, it } from "vitest";
import type { ProbeResult } from "./media.types.js";
import { avcCodecString, bitDepthOf, decodeCheckArgs, parseHexdump, parseProbeJson, probeArgs } from "./probe.js";

const NOT_DEFAULT = { default: 0, attached_pic: 0 };

/** `ffprobe -show_format -show_streams -show_chapters` of a 1280x720 libx264/AAC MP4 (trimmed to the fields read). */
const MP4_720 = {
  streams: [
    {
      index: 0, codec_name: "h264", codec_type: "video", width: 1280, height: 720, sample_aspect_ratio: "1:1",
      pix_fmt: "yuv420p", r_frame_rate: "30/1", avg_frame_rate: "30/1", duration: "3.000000", bit_rate: "7410592",
      bits_per_raw_sample: "8", disposition: { default: 1, attached_pic: 0 },
      tags: { language: "und", handler_name: "VideoHandler", vendor_id: "[0][0][0][0]", encoder: "Lavc59.37.100 libx264" },
    },
    {
      index: 1, codec_name: "aac", codec_type: "audio", sample_rate: "44100", channels: 1, r_frame_rate: "0/0",
      avg_frame_rate: "0/0", duration: "3.000000", bit_rate: "69584", disposition: { default: 1, attached_pic: 0 },
      tags: { language: "eng", handler_name: "SoundHandler" },
    },
  ],
  chapters: [],
  format: {
    filename: "in720.mp4", format_name: "mov,mp4,m4a,3gp,3g2,mj2", duration: "3.000000", size: "2809519", bit_rate: "7492050",
    tags: { major_brand: "isom", minor_version: "512", compatible_brands: "isomiso2avc1mp41", encoder: "Lavf59.27.100" },
  },
};

describe("parseProbeJson", () => {
  it("normalizes a plain landscape MP4", () => {
    expect(parseProbeJson(MP4_720)).toEqual<ProbeResult>({
      container: "mp4",
      formatName: "mov,mp4,m4a,3gp,3g2,mj2",
      durationS: 3,
      sizeBytes: 2809519,
      bitRate: 7492050,
      video: {
        index: 0, codec: "h264", width: 1280, height: 720, displayWidth: 1280, displayHeight: 720, rotation: 0, sar: [1, 1],
        fps: 30, isVfr: false, pixFmt: "yuv420p", bitDepth: 8, bitRate: 7410592,
      },
      audio: [{ index: 1, codec: "aac", channels: 1, sampleRate: 44100, language: "eng", title: null, bitRate: 69584, isDefault: true }],
      subtitles: [],
      chapters: [],
    });
  });

  it("reads an iPhone-style portrait MOV: display matrix rotation, VFR, 10-bit HEVC, cover art, chapters, subtitles", () => {
    const json = {
      streams: [
        {
          index: 0, codec_name: "hevc", codec_type: "video", width: 1920, height: 1080, sample_aspect_ratio: "1:1",
          pix_fmt: "yuv420p10le", r_frame_rate: "30/1", avg_frame_rate: "148/5", bit_rate: "8001234",
          disposition: { default: 1, attached_pic: 0 },
          tags: { creation_time: "2024-05-01T10:00:00.000000Z", handler_name: "Core Media Video" },
          side_data_list: [
            { side_data_type: "DOVI configuration record" },
            { side_data_type: "Display Matrix", displaymatrix: "\n00000000:            0       65536           0\n", rotation: -90 },
          ],
        },
        {
          index: 1, codec_name: "aac", codec_type: "audio", sample_rate: "48000", channels: 2, bit_rate: "160000",
          disposition: NOT_DEFAULT, tags: { language: "und", title: "Main" },
        },
        { index: 2, codec_name: "mov_text", codec_type: "subtitle", disposition: NOT_DEFAULT, tags: { language: "fre" } },
        { index: 3, codec_name: "mjpeg", codec_type: "video", width: 600, height: 600, disposition: { default: 0, attached_pic: 1 } },
      ],
      chapters: [
        { id: 0, start_time: "0.000000", end_time: "1.500000", tags: { title: "Intro" } },
        { id: 1, start_time: "1.500000", end_time: "3.000000" },
      ],
      format: { format_name: "mov,mp4,m4a,3gp,3g2,mj2", duration: "3.003", size: "3000000", bit_rate: "N/A", tags: { major_brand: "qt  " } },
    };
    expect(parseProbeJson(json)).toEqual<ProbeResult>({
      container: "mov",
      formatName: "mov,mp4,m4a,3gp,3g2,mj2",
      durationS: 3.003,
      sizeBytes: 3000000,
      bitRate: null,
      video: {
        index: 0, codec: "hevc", width: 1920, height: 1080, displayWidth: 1080, displayHeight: 1920, rotation: 90, sar: [1, 1],
        fps: 29.6, isVfr: true, pixFmt: "yuv420p10le", bitDepth: 10, bitRate: 8001234,
      },
      audio: [{ index: 1, codec: "aac", channels: 2, sampleRate: 48000, language: null, title: "Main", bitRate: 160000, isDefault: false }],
      subtitles: [{ index: 2, codec: "mov_text", language: "fre", title: null, isText: true }],
      chapters: [
        { start: 0, end: 1.5, title: "Intro" },
        { start: 1.5, end: 3, title: "" },
      ],
    });
  });

  it("reads the legacy clockwise `rotate` tag of ffprobe < 5 and an M4V brand", () => {
    const json = {
      streams: [{ index: 0, codec_name: "h264", codec_type: "video", width: 640, height: 360, r_frame_rate: "25/1", avg_frame_rate: "25/1", pix_fmt: "yuvj420p", tags: { rotate: "270" } }],
      format: { format_name: "mov,mp4,m4a,3gp,3g2,mj2", duration: "1.0", size: "10", bit_rate: "80", tags: { major_brand: "M4V " } },
    };
    const r = parseProbeJson(json);
    expect(r.container).toBe("m4v");
    expect(r.video).toMatchObject({ rotation: 270, displayWidth: 360, displayHeight: 640, bitDepth: 8, fps: 25, isVfr: false, sar: [1, 1] });
  });

  it("reads an anamorphic 10-bit Matroska file: SAR, NTSC rate, BPS tag, uppercase tags", () => {
    const json = {
      streams: [
        {
          index: 0, codec_name: "h264", codec_type: "video", width: 720, height: 480, sample_aspect_ratio: "32:27",
          pix_fmt: "yuv420p10le", r_frame_rate: "30000/1001", avg_frame_rate: "30000/1001", bits_per_raw_sample: "10",
          disposition: NOT_DEFAULT, tags: { BPS: "2900000", DURATION: "00:00:01.007000000" },
        },
        {
          index: 1, codec_name: "ac3", codec_type: "audio", sample_rate: "44100", channels: 6, bit_rate: "96000",
          disposition: { default: 1, attached_pic: 0 }, tags: { LANGUAGE: "ger", TITLE: "Deutsch 5.1" },
        },
        { index: 2, codec_name: "hdmv_pgs_subtitle", codec_type: "subtitle", tags: { language: "eng" } },
      ],
      chapters: [],
      format: { format_name: "matroska,webm", duration: "1.010000", size: "386592", bit_rate: "3062114", tags: { title: "x" } },
    };
    expect(parseProbeJson(json)).toEqual<ProbeResult>({
      container: "mkv",
      formatName: "matroska,webm",
      durationS: 1.01,
      sizeBytes: 386592,
      bitRate: 3062114,
      video: {
        index: 0, codec: "h264", width: 720, height: 480, displayWidth: 853, displayHeight: 480, rotation: 0, sar: [32, 27],
        fps: 29.97, isVfr: false, pixFmt: "yuv420p10le", bitDepth: 10, bitRate: 2900000,
      },
      audio: [{ index: 1, codec: "ac3", channels: 6, sampleRate: 44100, language: "ger", title: "Deutsch 5.1", bitRate: 96000, isDefault: true }],
      subtitles: [{ index: 2, codec: "hdmv_pgs_subtitle", language: "eng", title: null, isText: false }],
      chapters: [],
    });
  });

  it("tells WebM from Matroska by codecs, and maps the other containers", () => {
    const webm = {
      streams: [
        { index: 0, codec_name: "vp9", codec_type: "video", width: 320, height: 240, sample_aspect_ratio: "1:1", pix_fmt: "yuv420p", r_frame_rate: "25/1", avg_frame_rate: "25/1" },
        { index: 1, codec_name: "opus", codec_type: "audio", sample_rate: "48000", channels: 1 },
      ],
      format: { format_name: "matroska,webm", duration: "1.008000", size: "49801", bit_rate: "395246" },
    };
    expect(parseProbeJson(webm).container).toBe("webm");
    const withAac = { ...webm, streams: [webm.streams[0], { ...webm.streams[1], codec_name: "aac" }] };
    expect(parseProbeJson(withAac).container).toBe("mkv");
    const fmt = (format_name: string) => parseProbeJson({ streams: webm.streams, format: { format_name, duration: "1" } }).container;
    expect(fmt("mpegts")).toBe("mpegts");
    expect(fmt("avi")).toBe("avi");
    expect(fmt("ogg")).toBe("ogg");
    expect(fmt("flv")).toBe("other");
    expect(parseProbeJson({ streams: webm.streams, format: { format_name: "mov,mp4,m4a,3gp,3g2,mj2", tags: {} } }).container).toBe("mov");
  });

  it("Matroska's millisecond r_frame_rate means VFR; unknown rates are 0; no format duration uses the streams'", () => {
    const json = {
      streams: [
        { index: 0, codec_name: "h264", codec_type: "video", width: 640, height: 480, sample_aspect_ratio: "0:1", pix_fmt: "yuv420p", r_frame_rate: "1000/1", avg_frame_rate: "24/1", duration: "2.5" },
        { index: 1, codec_name: "h264", codec_type: "video", width: 640, height: 480, r_frame_rate: "0/0", avg_frame_rate: "0/0" },
      ],
      format: { format_name: "matroska,webm", duration: "N/A" },
    };
    const r = parseProbeJson(json);
    expect(r.video).toMatchObject({ fps: 24, isVfr: true, sar: [1, 1] });
    expect(r.durationS).toBe(2.5);
    expect(r.bitRate).toBeNull();
    expect(parseProbeJson({ streams: [json.streams[1]], format: {} }).video).toMatchObject({ fps: 0, isVfr: false });
  });

  it("an audio file with cover art has no video", () => {
    const json = {
      streams: [
        { index: 0, codec_name: "mp3", codec_type: "audio", sample_rate: "44100", channels: 2, bit_rate: "128000" },
        { index: 1, codec_name: "png", codec_type: "video", width: 500, height: 500, disposition: { default: 0, attached_pic: 1 } },
      ],
      format: { format_name: "mp3", duration: "1.0" },
    };
    expect(parseProbeJson(json)).toMatchObject({ container: "other", video: null, audio: [{ codec: "mp3", language: null }] });
    expect(parseProbeJson(null)).toEqual({ container: "other", formatName: "", durationS: 0, sizeBytes: 0, bitRate: null, video: null, audio: [], subtitles: [], chapters: [] });
  });
});

describe("bitDepthOf", () => {
  it.each([
    ["yuv420p", 8], ["yuvj420p", 8], ["nv12", 8], ["rgb24", 8], ["yuv420p10le", 10], ["yuv422p10be", 10], ["p010le", 10],
    ["yuv444p12le", 12], ["gray10le", 10], ["gbrp16le", 16], ["rgb48le", 16], ["rgba64be", 16], ["gray", 8],
  ])("%s → %i", (fmt, depth) => {
    expect(bitDepthOf(fmt)).toBe(depth);
  });
  it("falls back to bits_per_raw_sample for unknown formats", () => {
    expect(bitDepthOf("", 10)).toBe(10);
    expect(bitDepthOf("weird", null)).toBe(8);
  });
});

describe("codec strings", () => {
  it("reads avc1.PPCCLL from Annex B (MPEG-TS) and avcC (MP4) extradata", () => {
    const annexB = "\n00000000: 0000 0167 42c0 1eda 0280 bfe5 c044 0000  ...gB........D..\n00000010: 0300 0400 0003 00f0 3c58 ba80 0000 0001  ........<X......\n00000020: 68ce 3c80                                h.<.\n";
    expect(Array.from(parseHexdump(annexB).slice(0, 6))).toEqual([0, 0, 1, 0x67, 0x42, 0xc0]);
    expect(parseHexdump(annexB).length).toBe(36);
    expect(avcCodecString(parseHexdump(annexB))).toBe("avc1.42c01e");
    const avcC = "\n00000000: 0164 001f ffe1 0019 6764 001f acd9 4050  .d......gd....@P\n";
    expect(avcCodecString(parseHexdump(avcC))).toBe("avc1.64001f");
    expect(avcCodecString(new Uint8Array([0, 0, 0, 1, 0x68, 1, 2, 3]))).toBeNull();
  });
});

describe("argv of the probe and the decode check", () => {
  it("ffprobe: bounded probing, local files, the sniffed demuxer only (or the accepted ones)", () => {
    const head = ["-v", "error", "-probesize", "50000000", "-analyzeduration", "20000000", "-print_format", "json", "-show_format", "-show_streams", "-show_chapters"];
    expect(probeArgs("/d/up", "mov")).toEqual([...head, "-protocol_whitelist", "file", "-format_whitelist", "mov", "-f", "mov", "-i", "/d/up"]);
    expect(probeArgs("/d/up")).toEqual([...head, "-protocol_whitelist", "file", "-format_whitelist", "mov,matroska,avi,mpegts,ogg", "-i", "/d/up"]);
  });

  it("decode check: the same fences and the probed picture's max_pixels", () => {
    expect(decodeCheckArgs("/d/up", 3, { format: "mpegts", maxPixels: 137_984 })).toEqual([
      "-v", "error",
      "-protocol_whitelist", "file", "-format_whitelist", "mpegts", "-f", "mpegts", "-max_pixels", "137984", "-i", "/d/up",
      "-map", "0:v:0", "-an", "-sn", "-dn", "-frames:v", "3", "-f", "null", "-",
    ]);
    expect(decodeCheckArgs("/d/up", 5)).toEqual([
      "-v", "error", "-protocol_whitelist", "file", "-format_whitelist", "mov,matroska,avi,mpegts,ogg", "-i", "/d/up",
      "-map", "0:v:0", "-an", "-sn", "-dn", "-frames:v", "5", "-f", "null", "-",
    ]);
  });
});
