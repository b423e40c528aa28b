/**
 * The one contract both view counters pass (memory and Redis), against a real database: dedupe
 * per viewer, video and window, the cap of anonymous viewers per address, batched
 * `views = views + n`, exactly-once flushing.
 */
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { Db } from "../../platform/db/db.js";
import type { Viewer, ViewCounter } from "./view-counter.js";

export interface ViewCounterHarness {
  db: Db;
  /** a counter with the given window, cap per address and no timer (flush is called explicitly) */
  make(windowS: number, maxPerAddress: number): ViewCounter;
  /** inserts a video row with views = 0; returns its id */
  newVideo(): Promise<string>;
  close(): Promise<void>;
}

export function viewCounterContract(name: string, setup: () => Promise<ViewCounterHarness>): void {
  let h: ViewCounterHarness;
  const open: ViewCounter[] = [];
  const counter = (windowS = 60, maxPerAddress = 1000) => {
    const c = h.make(windowS, maxPerAddress);
    open.push(c);
    return c;
  };
  /** an account (never capped) and an anonymous viewer of an address */
  const user = (key: string): Viewer => ({ key, address: null });
  const anon = (key: string, address: string): Viewer => ({ key, address });
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
    expect(await c.record(a, user("viewer-1"))).toBe(true);
    expect(await c.record(a, user("viewer-1"))).toBe(false);
    expect(await c.record(a, user("viewer-2"))).toBe(true);
    expect(await c.record(b, user("viewer-1"))).toBe(true);
    expect(await views(a)).toBe(0); // nothing written before a flush
    expect(await c.flush()).toBe(3);
    expect(await views(a)).toBe(2);
    expect(await views(b)).toBe(1);
  });

  it(`${name}: a flush writes each increment once and adds to existing counts`, async () => {
    const c = counter();
    const id = await h.newVideo();
    await h.db.updateTable("videos").set({ views: 40 }).where("id", "=", id).execute();
    await c.record(id, user("x"));
    expect(await c.flush()).toBe(1);
    expect(await c.flush()).toBe(0);
    await c.record(id, user("y"));
    await Promise.all([c.flush(), c.flush()]);
    expect(await views(id)).toBe(42);
  });

  it(`${name}: concurrent records of one viewer count once`, async () => {
    const c = counter();
    const id = await h.newVideo();
    const results = await Promise.all(Array.from({ length: 20 }, () => c.record(id, user("same"))));
    expect(results.filter(Boolean)).toHaveLength(1);
    await c.flush();
    expect(await views(id)).toBe(1);
  });

  it(`${name}: counts again once the window has passed`, async () => {
    const c = counter(1);
    const id = await h.newVideo();
    expect(await c.record(id, user("v"))).toBe(true);
    expect(await c.record(id, user("v"))).toBe(false);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await c.record(id, user("v"))).toBe(true);
    await c.flush();
    expect(await views(id)).toBe(2);
  });

  it(`${name}: close flushes what is pending`, async () => {
    const c = h.make(60, 1000);
    const id = await h.newVideo();
    await c.record(id, user("v"));
    await c.close();
    expect(await views(id)).toBe(1);
  });

  it(`${name}: a flush for a deleted video does not fail the others`, async () => {
    const c = counter();
    const [gone, kept] = [await h.newVideo(), await h.newVideo()];
    await c.record(gone, user("v"));
    await c.record(kept, user("v"));
    await h.db.deleteFrom("videos").where("id", "=", gone).execute();
    await c.flush();
    expect(await views(kept)).toBe(1);
  });

  it(`${name}: an address counts at most maxPerAddress anonymous viewers per video per window`, async () => {
    const c = counter(60, 3);
    const [id, other] = [await h.newVideo(), await h.newVideo()];
    const results = [];
    // a script rotating its User-Agent: a new viewer key every time, one address
    for (let i = 0; i < 50; i++) results.push(await c.record(id, anon(`ua-${i}`, "addr-1")));
    expect(results.filter(Boolean)).toHaveLength(3);
    // a viewer counted before is still deduplicated, not re-counted
    expect(await c.record(id, anon("ua-0", "addr-1"))).toBe(false);
    // another address (its viewer keys differ: they hash the address too), another video, and
    // accounts behind the same address are not affected
    expect(await c.record(id, anon("addr-2/ua-0", "addr-2"))).toBe(true);
    expect(await c.record(other, anon("ua-0", "addr-1"))).toBe(true);
    expect(await c.record(id, user("u-1"))).toBe(true);
    expect(await c.flush()).toBe(6);
    expect(await views(id)).toBe(5);
  });

  it(`${name}: concurrent views from one address never pass the cap`, async () => {
    const c = counter(60, 4);
    const id = await h.newVideo();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => c.record(id, anon(`ua-${i}`, "nat"))));
    expect(results.filter(Boolean)).toHaveLength(4);
    await c.flush();
    expect(await views(id)).toBe(4);
  });

  it(`${name}: the address's places come back once its window has passed`, async () => {
    const c = counter(1, 1);
    const id = await h.newVideo();
    expect(await c.record(id, anon("a", "addr"))).toBe(true);
    // capped: not counted, and not marked seen either
    expect(await c.record(id, anon("b", "addr"))).toBe(false);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await c.record(id, anon("b", "addr"))).toBe(true);
    await c.flush();
    expect(await views(id)).toBe(2);
  });
}
