/**
 * Test helpers for thumbnails, posters and subtitles: multipart bodies for inject(), and reading a
 * master playlist's renditions.
 */

/** A multipart/form-data body with one file part, for `app.inject`. */
export function multipartBody(data: Buffer | string, opts: { field?: string; filename?: string; type?: string } = {}): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----vidflux${Math.random().toString(16).slice(2)}`;
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="${opts.field ?? "file"}"; filename="${opts.filename ?? "file.bin"}"\r\n` +
    `Content-Type: ${opts.type ?? "application/octet-stream"}\r\n\r\n`;
  return {
    payload: Buffer.concat([Buffer.from(head), Buffer.from(data), Buffer.from(`\r\n--${boundary}--\r\n`)]),
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
  };
}

/** `KEY=VALUE,KEY="quoted, value"` attribute lists (RFC 8216 §4.2). */
export function parseAttributeList(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Z0-9-]+)=("[^"]*"|[^,]*)(?:,|$)/g;
  for (let m = re.exec(list); m && m[0] !== ""; m = re.exec(list)) out[m[1]!] = m[2]!.replace(/^"|"$/g, "");
  return out;
}

export interface MasterRenditions {
  audio: Array<Record<string, string>>;
  subtitles: Array<Record<string, string>>;
  variants: Array<{ attrs: Record<string, string>; uri: string }>;
}

/** The EXT-X-MEDIA renditions and variants of a master playlist. */
export function parseMaster(text: string): MasterRenditions {
  const lines = text.split("\n");
  const out: MasterRenditions = { audio: [], subtitles: [], variants: [] };
  lines.forEach((l, i) => {
    if (l.startsWith("#EXT-X-MEDIA:")) {
      const a = parseAttributeList(l.slice("#EXT-X-MEDIA:".length));
      if (a.TYPE === "AUDIO") out.audio.push(a);
      if (a.TYPE === "SUBTITLES") out.subtitles.push(a);
    } else if (l.startsWith("#EXT-X-STREAM-INF:")) {
      out.variants.push({ attrs: parseAttributeList(l.slice("#EXT-X-STREAM-INF:".length)), uri: lines[i + 1] ?? "" });
    }
  });
  return out;
}
