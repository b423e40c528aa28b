import { describe, expect, it } from "vitest";
import { formatUploadMetadata, parseUploadMetadata, readTusHeaders, TusError } from "./tus-headers.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

function errorOf(fn: () => unknown): TusError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TusError) return err;
    throw err;
  }
  throw new Error("no error thrown");
}

describe("tus header table", () => {
  it("parses lengths and offsets as non-negative integers only", () => {
    expect(readTusHeaders({ "upload-length": "0", "upload-offset": "123" }, ["upload-length", "upload-offset"])).toEqual({ "upload-length": 0, "upload-offset": 123 });
    for (const bad of ["-1", "1.5", "abc", "", "1e3", "99999999999999999"]) {
      expect(errorOf(() => readTusHeaders({ "upload-length": bad }, ["upload-length"])).status).toBe(400);
    }
  });

  it("answers 412 with Tus-Version for a missing or unsupported Tus-Resumable", () => {
    for (const headers of [{}, { "tus-resumable": "0.2.2" }]) {
      const e = errorOf(() => readTusHeaders(headers, ["tus-resumable"], ["tus-resumable"]));
      expect(e.status).toBe(412);
      expect(e.headers["Tus-Version"]).toBe("1.0.0");
    }
    expect(readTusHeaders({ "tus-resumable": "1.0.0" }, ["tus-resumable"], ["tus-resumable"])["tus-resumable"]).toBe("1.0.0");
  });

  it("answers 415 for a PATCH body of another type", () => {
    expect(errorOf(() => readTusHeaders({ "content-type": "application/octet-stream" }, ["content-type"], ["content-type"])).status).toBe(415);
    expect(readTusHeaders({ "content-type": "Application/Offset+Octet-Stream; charset=x" }, ["content-type"])["content-type"]).toBe("application/offset+octet-stream");
  });

  it("parses Upload-Metadata: base64 UTF-8 values, keys without values, unique keys", () => {
    const raw = `filename ${b64("vidéo 🎬.mp4")},title ${b64("Hello")},empty`;
    expect(parseUploadMetadata(raw)).toEqual({ raw, values: { filename: "vidéo 🎬.mp4", title: "Hello", empty: "" } });
    expect(parseUploadMetadata(formatUploadMetadata({ a: "1", b: "" }))?.values).toEqual({ a: "1", b: "" });
    for (const bad of [`a ${b64("1")},a ${b64("2")}`, "a not*base64", "a b c", ",", `k\u00e9y ${b64("x")}`, `a ${Buffer.from([0xff, 0xfe]).toString("base64")}`]) {
      expect(parseUploadMetadata(bad)).toBeUndefined();
    }
  });

  it("parses Upload-Checksum and refuses unknown algorithms or wrong digest sizes with 400", () => {
    const sha1 = Buffer.alloc(20, 7).toString("base64");
    expect(readTusHeaders({ "upload-checksum": `sha1 ${sha1}` }, ["upload-checksum"])["upload-checksum"]).toEqual({ algorithm: "sha1", digest: Buffer.alloc(20, 7) });
    for (const bad of [`crc32 ${sha1}`, `SHA1 ${sha1}`, `md5 ${sha1}`, "sha1", `sha1  ${sha1}`]) {
      expect(errorOf(() => readTusHeaders({ "upload-checksum": bad }, ["upload-checksum"])).status).toBe(400);
    }
  });

  it("parses Upload-Concat partial and final lists", () => {
    expect(readTusHeaders({ "upload-concat": "partial" }, ["upload-concat"])["upload-concat"]).toEqual({ kind: "partial" });
    expect(readTusHeaders({ "upload-concat": "final;/a/1 http://h/a/2" }, ["upload-concat"])["upload-concat"]).toEqual({ kind: "final", urls: ["/a/1", "http://h/a/2"], raw: "final;/a/1 http://h/a/2" });
    for (const bad of ["final;", "finale;/a", "parts"]) expect(errorOf(() => readTusHeaders({ "upload-concat": bad }, ["upload-concat"])).status).toBe(400);
  });
});
