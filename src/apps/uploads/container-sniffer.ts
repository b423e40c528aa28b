/**
 * Magic-byte sniffing: decides from the first bytes whether an upload can be a video in an
 * accepted container, long before it is complete. An allowlist (anything unrecognised is
 * refused), so a text, HTML, image, archive or executable is stopped after its first kilobyte
 * instead of after gigabytes. It never judges a partial MP4/MOV beyond its first box: the index
 * (`moov`) may sit at the end, so only ffprobe on the complete file can say more.
 * Pure functions, no I/O.
 */
import type { FailureCode } from "../videos/index.js";

/** Bytes the sniffer wants before deciding (MPEG-TS needs four 188-byte packets). */
export const SNIFF_BYTES = 1024;

export type SniffedContainer = "mp4" | "mov" | "m4v" | "mkv" | "webm" | "avi" | "mpegts" | "ogg";

export type SniffVerdict =
  | { ok: true; container: SniffedContainer }
  | { ok: false; code: "empty_file" | "not_a_video" | "unsupported_container"; detected: string; message: string };

const ascii = (b: Buffer, start: number, end: number): string => b.subarray(start, end).toString("latin1");
const startsWith = (b: Buffer, sig: number[], at = 0): boolean => b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x);

/** ISO-BMFF brands that are still images, not video (HEIF/AVIF/JPEG 2000). */
const IMAGE_BRANDS = new Set(["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis", "jp2 ", "jpx ", "jpm ", "crx "]);
/** QuickTime files may begin with one of these atoms instead of `ftyp`. */
const QT_LEADING_ATOMS = new Set(["moov", "mdat", "free", "skip", "wide", "pnot"]);

function isoBmff(b: Buffer): SniffVerdict | null | undefined {
  if (b.length < 12) return b.length >= 8 && ascii(b, 4, 8) === "ftyp" ? null : undefined;
  const type = ascii(b, 4, 8);
  if (type === "ftyp") {
    const brand = ascii(b, 8, 12);
    if (IMAGE_BRANDS.has(brand)) return refuse("not_a_video", `image (${brand.trim()})`);
    if (brand === "qt  ") return { ok: true, container: "mov" };
    if (brand.startsWith("M4V")) return { ok: true, container: "m4v" };
    // mp4x, isom, avc1, 3gp*, M4A … : the ISO family; ffprobe decides whether a video stream exists.
    return { ok: true, container: "mp4" };
  }
  // Atom size 0 means "to the end of the file" and 1 "64-bit size follows"; otherwise >= 8.
  const size = b.readUInt32BE(0);
  if (QT_LEADING_ATOMS.has(type) && (size === 0 || size === 1 || size >= 8)) return { ok: true, container: "mov" };
  return undefined;
}

/** Matroska/WebM: the EBML header's DocType element (ID 0x4282) says which. */
function ebml(b: Buffer): SniffVerdict | null | undefined {
  if (!startsWith(b, [0x1a, 0x45, 0xdf, 0xa3])) return undefined;
  const limit = Math.min(b.length, 64);
  for (let i = 4; i < limit - 2; i++) {
    if (b[i] === 0x42 && b[i + 1] === 0x82) {
      const size = b[i + 2]! & 0x7f; // one-byte EBML size (0x80 | n) in every real file
      if ((b[i + 2]! & 0x80) === 0 || i + 3 + size > b.length) return b.length < 64 ? null : refuse("unsupported_container", "EBML with an unreadable DocType");
      const docType = ascii(b, i + 3, i + 3 + size).replace(/\0+$/, "");
      if (docType === "webm") return { ok: true, container: "webm" };
      if (docType === "matroska") return { ok: true, container: "mkv" };
      return refuse("unsupported_container", `EBML document type "${docType.slice(0, 20)}"`);
    }
  }
  return b.length < 64 ? null : refuse("unsupported_container", "EBML without a DocType");
}

function riff(b: Buffer): SniffVerdict | null | undefined {
  if (ascii(b, 0, 4) !== "RIFF") return undefined;
  if (b.length < 12) return null;
  const form = ascii(b, 8, 12);
  if (form === "AVI " || form === "AVIX") return { ok: true, container: "avi" };
  if (form === "WAVE") return refuse("not_a_video", "WAV audio");
  if (form === "WEBP") return refuse("not_a_video", "WebP image");
  return refuse("unsupported_container", `RIFF ${JSON.stringify(form)}`);
}

/** MPEG-TS (188-byte packets) or M2TS (192: a 4-byte timestamp first), sync byte 0x47 at each. */
function mpegTs(b: Buffer, done: boolean): SniffVerdict | null | undefined {
  for (const [first, stride] of [[0, 188], [4, 192]] as const) {
    if (b[first] !== 0x47) continue;
    let checked = 0;
    let ok = true;
    for (let p = first; p < b.length && checked < 4; p += stride, checked++) if (b[p] !== 0x47) ok = false;
    if (!ok) continue;
    if (checked >= 4 || (done && checked >= 1)) return { ok: true, container: "mpegts" };
    return null;
  }
  return undefined;
}

interface Signature {
  what: string;
  code: "not_a_video" | "unsupported_container";
  test(b: Buffer): boolean;
}

const bytes = (what: string, code: Signature["code"], sig: number[] | string, at = 0): Signature => {
  const arr = typeof sig === "string" ? [...Buffer.from(sig, "latin1")] : sig;
  return { what, code, test: (b) => startsWith(b, arr, at) };
};

/** Known formats that are refused, with the code each earns. */
const REFUSED: Signature[] = [
  // Video containers we do not accept.
  bytes("Flash video (FLV)", "unsupported_container", "FLV\x01"),
  bytes("ASF/WMV", "unsupported_container", [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11]),
  bytes("MPEG program stream", "unsupported_container", [0x00, 0x00, 0x01, 0xba]),
  bytes("MPEG video elementary stream", "unsupported_container", [0x00, 0x00, 0x01, 0xb3]),
  bytes("raw H.264/H.265 stream", "unsupported_container", [0x00, 0x00, 0x00, 0x01]),
  bytes("RealMedia", "unsupported_container", ".RMF"),
  bytes("MXF", "unsupported_container", [0x06, 0x0e, 0x2b, 0x34]),
  bytes("IVF", "unsupported_container", "DKIF"),
  bytes("YUV4MPEG", "unsupported_container", "YUV4MPEG2"),
  bytes("NUT", "unsupported_container", "nut/multimedia container"),
  // Images.
  bytes("PNG image", "not_a_video", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  bytes("JPEG image", "not_a_video", [0xff, 0xd8, 0xff]),
  bytes("GIF image", "not_a_video", "GIF8"),
  bytes("TIFF image", "not_a_video", [0x49, 0x49, 0x2a, 0x00]),
  bytes("TIFF image", "not_a_video", [0x4d, 0x4d, 0x00, 0x2a]),
  bytes("BMP image", "not_a_video", "BM"),
  bytes("ICO image", "not_a_video", [0x00, 0x00, 0x01, 0x00]),
  bytes("Photoshop document", "not_a_video", "8BPS"),
  // Audio.
  bytes("MP3 audio", "not_a_video", "ID3"),
  bytes("FLAC audio", "not_a_video", "fLaC"),
  bytes("AIFF audio", "not_a_video", "FORM"),
  bytes("MIDI", "not_a_video", "MThd"),
  { what: "MPEG audio", code: "not_a_video", test: (b) => b.length >= 2 && b[0] === 0xff && (b[1]! & 0xe0) === 0xe0 },
  // Documents, archives, executables, databases.
  bytes("PDF document", "not_a_video", "%PDF"),
  bytes("ZIP archive", "not_a_video", "PK\x03\x04"),
  bytes("ZIP archive", "not_a_video", "PK\x05\x06"),
  bytes("ZIP archive", "not_a_video", "PK\x07\x08"),
  bytes("gzip archive", "not_a_video", [0x1f, 0x8b]),
  bytes("bzip2 archive", "not_a_video", "BZh"),
  bytes("xz archive", "not_a_video", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
  bytes("7-Zip archive", "not_a_video", [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]),
  bytes("RAR archive", "not_a_video", "Rar!"),
  bytes("zstd archive", "not_a_video", [0x28, 0xb5, 0x2f, 0xfd]),
  bytes("tar archive", "not_a_video", "ustar", 257),
  bytes("ELF executable", "not_a_video", [0x7f, 0x45, 0x4c, 0x46]),
  bytes("Windows executable", "not_a_video", "MZ"),
  bytes("Mach-O executable", "not_a_video", [0xcf, 0xfa, 0xed, 0xfe]),
  bytes("Mach-O executable", "not_a_video", [0xce, 0xfa, 0xed, 0xfe]),
  bytes("Mach-O universal binary", "not_a_video", [0xca, 0xfe, 0xba, 0xbe]),
  bytes("WebAssembly module", "not_a_video", [0x00, 0x61, 0x73, 0x6d]),
  bytes("SQLite database", "not_a_video", "SQLite format 3\0"),
  bytes("script", "not_a_video", "#!"),
];

function refuse(code: "not_a_video" | "unsupported_container" | "empty_file", detected: string): SniffVerdict {
  const message =
    code === "empty_file"
      ? "The file is empty."
      : code === "not_a_video"
        ? `This file is not a video (it looks like ${detected}).`
        : `This video container is not supported (${detected}). Accepted: MP4/MOV/M4V, MKV/WebM, AVI, MPEG-TS, Ogg.`;
  return { ok: false, code, detected, message };
}

/** Text: (X)HTML/XML/SVG first, then anything that decodes as printable UTF-8. */
function text(b: Buffer): string | undefined {
  let s = b;
  if (startsWith(s, [0xef, 0xbb, 0xbf])) s = s.subarray(3);
  const head = s.subarray(0, 256).toString("latin1").trimStart().toLowerCase();
  if (/^<(!doctype html|html|head|body|script|iframe|svg|\?xml|!--)/.test(head)) return "HTML/XML";
  if (head.startsWith("{") || head.startsWith("[")) return looksLikeText(s) ? "JSON/text" : undefined;
  return looksLikeText(s) ? "text" : undefined;
}

function looksLikeText(b: Buffer): boolean {
  if (b.length === 0) return false;
  try {
    // A multi-byte character may be cut at the end of the window: drop up to 3 trailing bytes.
    const str = new TextDecoder("utf-8", { fatal: false }).decode(b);
    const bad = [...str].filter((c) => {
      const code = c.codePointAt(0)!;
      return code === 0xfffd || (code < 0x20 && c !== "\n" && c !== "\r" && c !== "\t" && c !== "\f") || code === 0x7f;
    }).length;
    return bad <= 3;
  } catch {
    return false;
  }
}

/**
 * Judges the first bytes of an upload. `done` says `head` is the whole file (short uploads).
 * Returns null while more bytes are needed, otherwise a verdict; `accepted` lists the containers
 * the configuration allows (ACCEPTED_CONTAINERS).
 */
export function sniffContainer(head: Buffer, done: boolean, accepted: readonly string[]): SniffVerdict | null {
  if (head.length === 0) return done ? refuse("empty_file", "nothing") : null;
  const verdict = sniffRaw(head, done);
  if (verdict === null) return done ? refuse("not_a_video", "a truncated header") : null;
  if (verdict.ok && !accepted.includes(verdict.container)) {
    return refuse("unsupported_container", `${verdict.container}, not enabled on this server`);
  }
  return verdict;
}

function sniffRaw(b: Buffer, done: boolean): SniffVerdict | null {
  for (const detector of [isoBmff, ebml, riff]) {
    const v = detector(b);
    if (v !== undefined) return v;
  }
  const ts = mpegTs(b, done);
  if (ts !== undefined) return ts;
  if (ascii(b, 0, 4) === "OggS") return { ok: true, container: "ogg" };
  if (b.length < 4 && !done) return null;
  for (const sig of REFUSED) if (sig.test(b)) return refuse(sig.code, sig.what);
  // Text needs a fair window: a binary header can start with a few printable bytes.
  if (b.length < Math.min(SNIFF_BYTES, 256) && !done) return null;
  const t = text(b);
  if (t) return refuse("not_a_video", t);
  return refuse("not_a_video", "unrecognised binary data");
}

/** The first bytes were judged: the upload is terminated with this code. */
export class UploadRefusedError extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
  ) {
    super(message);
    this.name = "UploadRefusedError";
  }
}

/**
 * An `inspect` hook for a byte stream: collects the first SNIFF_BYTES as they arrive, judges them
 * once a verdict is possible and throws UploadRefusedError on a refusal; after the verdict it
 * does nothing. `stored`: the bytes already kept before this stream (a resumed upload still inside
 * the sniff window); `whole(received)`: whether `received` bytes of this stream end the file.
 */
export function headSniffer(stored: Buffer, accepted: readonly string[], whole: (received: number) => boolean = () => false): (chunk: Buffer, received: number) => void {
  let head: Buffer | null = stored;
  return (chunk, received) => {
    if (head === null) return;
    head = Buffer.concat([head, chunk.subarray(0, Math.max(0, SNIFF_BYTES - head.length))]);
    const verdict = sniffContainer(head, whole(received), accepted);
    if (verdict) {
      head = null;
      if (!verdict.ok) throw new UploadRefusedError(verdict.code, verdict.message);
    }
  };
}
