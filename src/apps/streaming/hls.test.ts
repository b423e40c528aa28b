import { describe, expect, it } from "vitest";
import { cacheControl, contentTypeOf, kindOf } from "../../contracts/media-layout.js";
import { hlsKey } from "./hls.js";

const ID = "0b5a7c1e-3f7e-4c43-9a4e-2d2b1c6c9f10";

describe("HLS paths", () => {
  it("maps valid relative paths under the video's hls folder", () => {
    expect(hlsKey(ID, "master.m3u8")).toBe(`videos/${ID}/hls/master.m3u8`);
    expect(hlsKey(ID, "240p/seg_000.ts")).toBe(`videos/${ID}/hls/240p/seg_000.ts`);
    expect(hlsKey(ID, "audio/en-US/index.m3u8")).toBe(`videos/${ID}/hls/audio/en-US/index.m3u8`);
  });
  it("refuses traversal, hidden files, odd characters and unknown types", () => {
    for (const bad of ["", "../original", "240p/../../original", "./master.m3u8", "240p//seg.ts", ".seg.ts.0123456789abcdef.tmp", "240p/.x.ts", "a b.ts", "seg%2e.ts", "x\\y.ts", "original", "240p/seg.exe", "a/b/c/d/e/f/g.ts", "/master.m3u8", "240p/"]) {
      expect(hlsKey(ID, bad), bad).toBeNull();
    }
  });
  it("types and caches files by kind and visibility", () => {
    expect(contentTypeOf("master.m3u8")).toBe("application/vnd.apple.mpegurl");
    expect(contentTypeOf("240p/seg_000.ts")).toBe("video/mp2t");
    expect(contentTypeOf("240p/seg_000.m4s")).toBe("video/mp4");
    expect(contentTypeOf("audio/en/init.mp4")).toBe("audio/mp4");
    expect(contentTypeOf("subs/en/subs.vtt")).toBe("text/vtt; charset=utf-8");
    expect(kindOf("a.m3u8")).toBe("playlist");
    expect(kindOf("a.ts")).toBe("segment");
    expect(cacheControl("segment", false, true)).toContain("immutable");
    expect(cacheControl("playlist", false, false)).toBe("public, max-age=1");
    expect(cacheControl("playlist", false, true)).toBe("public, max-age=300");
    expect(cacheControl("playlist", true, true)).toBe("private, no-store");
    expect(cacheControl("segment", true, true)).toMatch(/^private/);
  });
});
