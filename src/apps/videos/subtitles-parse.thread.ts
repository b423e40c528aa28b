/**
 * Worker-thread entry of the subtitle parser (see subtitle-parser.ts): one file in, the WebVTT we
 * store (or why not) out. Runs `normalizeSubtitles` unchanged; the WebVTT is encoded here into a
 * buffer of its own so it can be moved, not copied, to the event loop.
 */
import { serveWorkerTasks } from "../../lib/worker-pool.js";
import type { ParseOutcome, ParseTask } from "./subtitle-parser.js";
import { normalizeSubtitles } from "./subtitles-convert.js";

serveWorkerTasks<ParseTask, ParseOutcome>(({ bytes, limits }) => {
  const r = normalizeSubtitles(bytes, limits);
  if (!r.ok) return { value: r };
  // TextEncoder allocates a fresh ArrayBuffer (Buffer.from may hand out a slice of a shared pool).
  const vtt = new TextEncoder().encode(r.vtt);
  return { value: { ok: true, format: r.format, cues: r.cues.length, vtt }, transfer: [vtt.buffer] };
});
