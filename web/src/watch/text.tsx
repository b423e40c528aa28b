/**
 * Text with time links: `1:23` or `1:02:03` in a comment or a description becomes a link to that
 * moment (`#/watch/{id}?t=83`, so it also works opened in a new tab) that seeks the player in place.
 * The times are found as the API finds them (src/apps/reactions/comment-text.ts): not inside a
 * longer run of digits and colons, and only within the video.
 */
import type { ComponentChildren } from "preact";
import { href } from "../router.js";

const TIME = /(?<![\d:])(?:(\d{1,2}):([0-5]\d)|(\d{1,3})):([0-5]\d)(?!\d|:\d)/g;

export type Part = { text: string; seconds?: number };

/** The text cut into plain runs and times (`seconds` set), times past `maxSeconds` left as text. */
export function splitTimes(text: string, maxSeconds: number | null): Part[] {
  const out: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(TIME)) {
    const s = m[1] !== undefined ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[4]) : Number(m[3]) * 60 + Number(m[4]);
    if (maxSeconds === null || s > maxSeconds) continue;
    const at = m.index ?? 0;
    if (at > last) out.push({ text: text.slice(last, at) });
    out.push({ text: m[0], seconds: s });
    last = at + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

export interface TimeTextProps {
  text: string;
  videoId: string;
  /** The video's duration: times beyond it are no links. */
  duration: number | null;
  /** The API's `time_refs` of this text, when it gave them (comments): only those become links. */
  refs?: readonly number[];
  onSeek: (seconds: number) => void;
}

/** Plain text (never HTML: it is rendered as text nodes) with its times as links. */
export function TimeText(props: TimeTextProps): ComponentChildren {
  return splitTimes(props.text, props.duration).map((p, i) => {
    const s = p.seconds;
    if (s === undefined || (props.refs && !props.refs.includes(s))) return p.text;
    return (
      <a
        key={i}
        class="time-link"
        href={href("watch", props.videoId, { t: s })}
        aria-label={`Play from ${p.text}`}
        onClick={(e) => {
          e.preventDefault();
          props.onSeek(s);
        }}
      >
        {p.text}
      </a>
    );
  });
}

/** A language's own name (`fr` → "français"), or the code when the browser does not know it. */
export function languageName(code: string): string {
  try {
    const name = new Intl.DisplayNames([code], { type: "language" }).of(code);
    return name && name !== code ? name : code;
  } catch {
    return code;
  }
}
