import { describe, expect, it } from "vitest";
import { audioDir, candidateThumbRel, CONVERSION_DIRS, masterRelative, mp4Rel, objectContentType, OWN_THUMB, playlistIn, rungDir, segmentPattern, subtitleDir, uploadedSubtitleLang, videoKeys } from "./media-layout.js";

describe("media layout", () => {
  it("keys and names", () => {
    expect(videoKeys.prefix("v1")).toBe("videos/v1/");
    expect(videoKeys.original("v1")).toBe("videos/v1/original");
    expect(videoKeys.hlsPrefix("v1")).toBe("videos/v1/hls/");
    expect(videoKeys.master("v1")).toBe("videos/v1/hls/master.m3u8");
    expect(playlistIn(rungDir("720p"))).toBe("hls/720p/index.m3u8");
    expect(playlistIn(audioDir("en"))).toBe("hls/audio/en/index.m3u8");
    expect(playlistIn(subtitleDir("fr"))).toBe("hls/subs/fr/index.m3u8");
    expect(masterRelative(playlistIn(audioDir("en")))).toBe("audio/en/index.m3u8");
    expect(mp4Rel("480p")).toBe("mp4/480p.mp4");
    expect(candidateThumbRel(3)).toBe("thumbs/c3.jpg");
    expect([segmentPattern("mpegts"), segmentPattern("fmp4")]).toEqual(["seg_%05d.ts", "seg_%05d.m4s"]);
    expect(["thumbs/c12.jpg", "thumbs/poster.jpg", "thumbs/storyboard.jpg", "thumbs/storyboard.vtt"].every((r) => OWN_THUMB.test(r))).toBe(true);
    expect(["thumbs/custom-poster.jpg", "thumbs/poster.webp", "hls/poster.jpg"].some((r) => OWN_THUMB.test(r))).toBe(false);
  });

  it("the content type of every object the conversion writes, the same table as served", () => {
    expect(objectContentType("hls/master.m3u8")).toBe("application/vnd.apple.mpegurl");
    expect(objectContentType("hls/720p/seg_00000.ts")).toBe("video/mp2t");
    expect(objectContentType("hls/720p/seg_00000.m4s")).toBe("video/mp4");
    expect(objectContentType("hls/720p/init.mp4")).toBe("video/mp4");
    expect(objectContentType("hls/audio/en/seg_00000.m4s")).toBe("audio/mp4");
    expect(objectContentType("hls/audio/en/seg_00000.cmfa")).toBe("audio/mp4");
    expect(objectContentType("hls/subs/fr/subs.vtt")).toBe("text/vtt; charset=utf-8");
    expect(objectContentType("mp4/720p.mp4")).toBe("video/mp4");
    expect(objectContentType("thumbs/poster.jpg")).toBe("image/jpeg");
    expect(objectContentType("thumbs/storyboard.vtt")).toBe("text/vtt; charset=utf-8");
    expect(objectContentType("hls/720p/notes.txt")).toBe("application/octet-stream");
  });

  it("what people uploaded, apart from every folder a conversion owns", () => {
    expect(videoKeys.uploads("v")).toBe("videos/v/uploads/");
    expect(videoKeys.uploadedSubtitle("v", "fr")).toBe("videos/v/uploads/subtitles/fr.vtt");
    expect(videoKeys.uploadedPoster("v")).toBe("videos/v/uploads/poster.jpg");
    for (const dir of CONVERSION_DIRS) expect(videoKeys.uploads("v").startsWith(`videos/v/${dir}`)).toBe(false);
    expect(uploadedSubtitleLang("v", "videos/v/uploads/subtitles/pt-BR.vtt")).toBe("pt-BR");
    expect(uploadedSubtitleLang("v", "videos/v/uploads/poster.jpg")).toBeNull();
    expect(uploadedSubtitleLang("v", "videos/w/uploads/subtitles/fr.vtt")).toBeNull();
    expect(uploadedSubtitleLang("v", "videos/v/uploads/subtitles/../fr.vtt")).toBeNull();
    expect(objectContentType("uploads/subtitles/fr.vtt")).toBe("text/vtt; charset=utf-8");
    expect(objectContentType("uploads/poster.jpg")).toBe("image/jpeg");
  });
});
