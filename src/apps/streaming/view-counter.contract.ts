/**
 * The one contract both view counters pass (memory and Redis), against a real database: dedupe
 * per viewer, video and window, batched `views = views + n`, exactly-once flushing.
 */
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { Db } from "../../platform/db/db.js";
import type { ViewCounter } from "./view-counter.js";

export interface ViewCounterHarness {
  db: Db;
  /** a counter with the given window and no timer (flush is called explicitly) */
  make(windowS: number): ViewCounter;
  /** inserts a video row with views = 0; returns its id */
  newVideo(): Promise<string>;
  close(): Promise<void>;
}

export function viewCounterContract(name: string, setup: () => Promise<ViewCounterHarness>): void {
  let h: ViewCounterHarness;
  const open: ViewCounter[] = [];
  const counter = (windowS = 60) => {
    const c = h.make(windowS);
    open.push(c);
    return c;
  };
  const views = async (id: string) => Number((await h.db.selectFrom("videos").select("views").where("id", "=", id).executeTakeFirstOrThrow()).views);

  beforeAll(async () => {
    h = await setup();
  });
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
  });
  afterAll(async () => {
    await h?.close();
  });

  it(`${name}: counts a viewer once per video per window`, async () => {
    const c = counter();
    const [a, b] = [await h.newVideo(), await h.newVideo()];
    expect(await c.record(a, "viewer-1")).toBe(true);
    expect(await c.record(a, "viewer-1")).toBe(false);
    expect(await c.record(a, "viewer-2")).toBe(true);
    expect(await c.record(b, "viewer-1")).toBe(true);
    expect(await views(a)).toBe(0); // nothing written before a flush
    expect(await c.flush()).toBe(3);
    expect(await views(a)).toBe(2);
    expect(await views(b)).toBe(1);
  });

  it(`${name}: a flush writes each increment once and adds to existing counts`, async () => {
    const c = counter();
    const id = await h.newVideo();
    await h.db.updateTable("videos").set({ views: 40 }).where("id", "=", id).execute();
    await c.record(id, "x");
    expect(await c.flush()).toBe(1);
    expect(await c.flush()).toBe(0);
    await c.record(id, "y");
    await Promise.all([c.flush(), c.flush()]);
    expect(await views(id)).toBe(42);
  });

  it(`${name}: concurrent records of one viewer count once`, async () => {
    const c = counter();
    const id = await h.newVideo();
    const results = await Promise.all(Array.from({ length: 20 }, () => c.record(id, "same")));
    expect(results.filter(Boolean)).toHaveLength(1);
    await c.flush();
    expect(await views(id)).toBe(1);
  });

  it(`${name}: counts again once the window has passed`, async () => {
    const c = counter(1);
    const id = await h.newVideo();
    expect(await c.record(id, "v")).toBe(true);
    expect(await c.record(id, "v")).toBe(false);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await c.record(id, "v")).toBe(true);
    await c.flush();
    expect(await views(id)).toBe(2);
  });

  it(`${name}: close flushes what is pending`, async () => {
    const c = h.make(60);
    const id = await h.newVideo();
    await c.record(id, "v");
    await c.close();
    expect(await views(id)).toBe(1);
  });

  it(`${name}: a flush for a deleted video does not fail the others`, async () => {
    const c = counter();
    const [gone, kept] = [await h.newVideo(), await h.newVideo()];
    await c.record(gone, "v");
    await c.record(kept, "v");
    await h.db.deleteFrom("videos").where("id", "=", gone).execute();
    await c.flush();
    expect(await views(kept)).toBe(1);
  });
}
