/**
 * Human formatting for the video-info service. Pure, unit-tested at the edges.
 */

const UNITS = ["B", "K", "M", "G", "T"] as const;

/**
 * Size in base 1024 with one decimal: `0 → "0 B"`, `1023 → "1023 B"`, `1536 → "1.5 K"`,
 * `734003200 → "700.0 M"`, `1099511627776 → "1.0 T"`. Bytes are shown without decimals.
 * Beyond T it stays in T (there is no larger unit in the contract).
 */
export function humanSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError("size must be a non-negative number");
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${Math.floor(bytes)} B`;
  // 1023.96 K would round to "1024.0 K": carry into the next unit instead.
  if (Number(value.toFixed(1)) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** `%H:%M:%S`, rounded to the nearest second, hours not wrapped (`90000 → "25:00:00"`). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError("duration must be a non-negative number");
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(h)}:${pad(m)}:${pad(s)}`;
}
