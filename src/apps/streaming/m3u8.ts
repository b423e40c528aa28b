/**
 * A small, pure M3U8 reader and rewriter (RFC 8216) for the playlists the transcoder writes:
 * enough to list segments with their start times (the segmented structure), find a rendition's
 * first segment (view counting), and append a playback token to every URI of a private video's
 * playlists so players need no custom headers.
 *
 * Not `hls-parser`: its parse → stringify round trip drops tags it does not model (vendor `#X-…`
 * tags, a default EXT-X-MEDIA-SEQUENCE), reorders attributes and reformats EXTINF durations, so
 * it cannot rewrite URIs while keeping every other byte; as a reader it throws TypeErrors on
 * non-playlists, takes `#EXTINF:abc` as a duration and logs to the console in its lenient mode.
 */

export interface MediaSegment {
  /** 0-based position in the playlist (not the media sequence number) */
  index: number;
  /** the URI as written (relative to the playlist) */
  uri: string;
  /** seconds from the start of the playlist */
  start: number;
  duration: number;
}

export interface MediaPlaylist {
  version: number | null;
  /** EXT-X-TARGETDURATION, seconds */
  targetDuration: number | null;
  mediaSequence: number;
  playlistType: string | null;
  /** EXT-X-ENDLIST present: no segment will be added */
  ended: boolean;
  /** EXT-X-MAP URI (fMP4 init segment) */
  mapUri: string | null;
  segments: MediaSegment[];
}

export interface Variant {
  uri: string;
  attributes: Record<string, string>;
  bandwidth: number | null;
  resolution: { width: number; height: number } | null;
}

export interface Rendition {
  type: string;
  groupId: string;
  name: string;
  language: string | null;
  uri: string | null;
  isDefault: boolean;
  attributes: Record<string, string>;
}

export interface MasterPlaylist {
  variants: Variant[];
  media: Rendition[];
}

export class PlaylistParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlaylistParseError";
  }
}

function lines(text: string): string[] {
  // §4.1: lines end with LF or CRLF; a UTF-8 BOM is not allowed but is harmless to strip.
  return text.replace(/^\uFEFF/, "").split(/\r?\n/);
}

function assertHeader(ls: string[]): void {
  // §4.3.1.1: "The EXTM3U tag indicates that the file is an Extended M3U Playlist file. It MUST be
  // the first line of every Media Playlist and every Master Playlist."
  if (ls[0]?.trim() !== "#EXTM3U") throw new PlaylistParseError("missing #EXTM3U header");
}

// §4.2: attribute-list = AttributeName=AttributeValue pairs separated by commas; a
// quoted-string may itself contain commas.
const ATTRIBUTE = /\s*([A-Z0-9-]+)=("[^"\r\n]*"|[^,]*)\s*(?:,|$)/y;

/** Parses an attribute list; quoted values are returned without their quotes. */
export function parseAttributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  ATTRIBUTE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (ATTRIBUTE.lastIndex < s.length && (m = ATTRIBUTE.exec(s))) {
    const raw = m[2]!;
    out[m[1]!] = raw.startsWith('"') ? raw.slice(1, -1) : raw.trim();
  }
  return out;
}

export function isMasterPlaylist(text: string): boolean {
  return /^#EXT-X-STREAM-INF:/m.test(text);
}

export function parseMediaPlaylist(text: string): MediaPlaylist {
  const ls = lines(text);
  assertHeader(ls);
  const pl: MediaPlaylist = { version: null, targetDuration: null, mediaSequence: 0, playlistType: null, ended: false, mapUri: null, segments: [] };
  let pendingDuration: number | null = null;
  let t = 0;
  for (const raw of ls.slice(1)) {
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith("#")) {
      const colon = line.indexOf(":");
      const tag = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? "" : line.slice(colon + 1);
      switch (tag) {
        case "#EXT-X-VERSION":
          pl.version = Number(value);
          break;
        case "#EXT-X-TARGETDURATION":
          pl.targetDuration = Number(value);
          break;
        case "#EXT-X-MEDIA-SEQUENCE":
          pl.mediaSequence = Number(value);
          break;
        case "#EXT-X-PLAYLIST-TYPE":
          pl.playlistType = value;
          break;
        case "#EXT-X-ENDLIST":
          pl.ended = true;
          break;
        case "#EXT-X-MAP":
          pl.mapUri = parseAttributes(value).URI ?? null;
          break;
        case "#EXTINF": {
          // §4.3.2.1: #EXTINF:<duration>,[<title>]
          const d = Number(value.split(",")[0]);
          if (!Number.isFinite(d) || d < 0) throw new PlaylistParseError(`invalid EXTINF duration: ${value}`);
          pendingDuration = d;
          break;
        }
        default:
          break; // comments and tags this reader does not need
      }
      continue;
    }
    // A URI line: §4.3.2.1 "This tag [EXTINF] is REQUIRED for each Media Segment".
    if (pendingDuration === null) throw new PlaylistParseError(`segment without EXTINF: ${line}`);
    pl.segments.push({ index: pl.segments.length, uri: line, start: round(t), duration: pendingDuration });
    t += pendingDuration;
    pendingDuration = null;
  }
  return pl;
}

export function parseMasterPlaylist(text: string): MasterPlaylist {
  const ls = lines(text);
  assertHeader(ls);
  const out: MasterPlaylist = { variants: [], media: [] };
  let pending: Record<string, string> | null = null;
  for (const raw of ls.slice(1)) {
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith("#EXT-X-STREAM-INF:")) {
      pending = parseAttributes(line.slice("#EXT-X-STREAM-INF:".length));
      continue;
    }
    if (line.startsWith("#EXT-X-MEDIA:")) {
      const a = parseAttributes(line.slice("#EXT-X-MEDIA:".length));
      out.media.push({
        type: a.TYPE ?? "",
        groupId: a["GROUP-ID"] ?? "",
        name: a.NAME ?? "",
        language: a.LANGUAGE ?? null,
        uri: a.URI ?? null,
        isDefault: a.DEFAULT === "YES",
        attributes: a,
      });
      continue;
    }
    if (line.startsWith("#")) continue;
    // §4.3.4.2: "The URI line that follows the EXT-X-STREAM-INF tag specifies a Media Playlist".
    if (!pending) throw new PlaylistParseError(`URI without EXT-X-STREAM-INF: ${line}`);
    const res = /^(\d+)x(\d+)$/.exec(pending.RESOLUTION ?? "");
    out.variants.push({
      uri: line,
      attributes: pending,
      bandwidth: pending.BANDWIDTH ? Number(pending.BANDWIDTH) : null,
      resolution: res ? { width: Number(res[1]), height: Number(res[2]) } : null,
    });
    pending = null;
  }
  return out;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** Appends (or replaces) a query parameter on a URI that may already have a query or fragment. */
export function withQueryParam(uri: string, name: string, value: string): string {
  const hash = uri.indexOf("#");
  const frag = hash === -1 ? "" : uri.slice(hash);
  const base = hash === -1 ? uri : uri.slice(0, hash);
  const q = base.indexOf("?");
  const path = q === -1 ? base : base.slice(0, q);
  const params = q === -1 ? [] : base.slice(q + 1).split("&").filter((p) => p !== "" && p.split("=")[0] !== name);
  params.push(`${name}=${encodeURIComponent(value)}`);
  return `${path}?${params.join("&")}${frag}`;
}

/**
 * Rewrites every URI of a playlist (master or media): URI lines and the URI="..." attribute of
 * tags (EXT-X-MEDIA, EXT-X-MAP, EXT-X-I-FRAME-STREAM-INF, EXT-X-KEY, ...). Other lines are kept
 * byte for byte; line endings become LF (§4.1 allows either).
 */
export function rewritePlaylistUris(text: string, map: (uri: string) => string): string {
  return lines(text)
    .map((raw) => {
      const line = raw.trim();
      if (line === "") return raw;
      if (line.startsWith("#")) {
        return line.startsWith("#EXT") ? raw.replace(/([:,]URI=")([^"]*)(")/g, (_m, a: string, uri: string, b: string) => `${a}${map(uri)}${b}`) : raw;
      }
      return map(line);
    })
    .join("\n");
}

/** Resolves a playlist-relative URI (no scheme, no leading slash) against the playlist's key. */
export function resolveRelative(playlistKey: string, uri: string): string | null {
  const clean = uri.split(/[?#]/)[0]!;
  if (clean === "" || /^[a-z][a-z0-9+.-]*:/i.test(clean) || clean.startsWith("/")) return null;
  const parts = playlistKey.split("/").slice(0, -1);
  for (const seg of clean.split("/")) {
    if (seg === "..") {
      if (parts.length === 0) return null;
      parts.pop();
    } else if (seg !== "." && seg !== "") {
      parts.push(seg);
    }
  }
  return parts.join("/");
}
