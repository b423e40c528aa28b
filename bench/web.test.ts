/**
 * The size goal of the web client holds for the build the tests serve (a size, not a time, so a
 * test may hold it; `npm run bench -- web` reports the figures per file).
 */
import { describe, expect, it } from "vitest";
import { APP_GZIP_GOAL, kb, measureWebBundle } from "./web-size.js";

describe("web client bundle", () => {
  it(`the app without hls.js is under ${kb(APP_GZIP_GOAL)} gzipped, and hls.js is its own chunk`, () => {
    const m = measureWebBundle();
    console.log(`[web bundle] app ${kb(m.app.gzip)} gzip (${kb(m.app.raw)} raw); hls.js ${kb(m.hls.gzip)} gzip`);
    expect(m.app.gzip).toBeGreaterThan(0);
    expect(m.app.gzip).toBeLessThan(APP_GZIP_GOAL);
    expect(m.hls.gzip).toBeGreaterThan(0);
  });
});
