import { describe, expect, it } from "vitest";
import type { ServingVideo } from "../videos/index.js";
import { VideoCache, type VideoSource } from "./video-cache.js";

type Row = { id: string; title: string; playable: number; duration_s: number | null; media: string | null };

/** A row source that answers from `rows`, counting queries; `gate` holds them. */
function fakeDb(rows: Map<string, Row>) {
  const state = { queries: 0, gate: null as Promise<void> | null };
  const db: VideoSource = {
    findServing: async (id: string) => {
      state.queries++;
      const row = rows.get(id);
      if (state.gate) await state.gate;
      return row ? ({ ...row } as unknown as ServingVideo) : undefined;
    },
  };
  return { db, state };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("VideoCache", () => {
  it("reuses rows and missing ids within the TTL, then reloads", async () => {
    const rows = new Map<string, Row>([["a", { id: "a", title: "A", playable: 1, duration_s: 3, media: null }]]);
    const { db, state } = fakeDb(rows);
    const cache = new VideoCache(db, 60);
    expect(await cache.get("a")).toMatchObject({ id: "a", title: "A", playable: true, duration_s: 3, media: null });
    expect(await cache.get("missing")).toBeNull();
    await cache.get("a");
    await cache.get("missing");
    expect(state.queries).toBe(2);
    rows.get("a")!.title = "A2";
    await sleep(100);
    expect(await cache.get("a")).toMatchObject({ title: "A2" });
    expect(await cache.get("missing")).toBeNull();
    expect(state.queries).toBe(4);
  });

  it("shares one query between concurrent misses", async () => {
    const { db, state } = fakeDb(new Map([["a", { id: "a", title: "A", playable: 0, duration_s: null, media: null }]]));
    const cache = new VideoCache(db);
    const [x, y] = await Promise.all([cache.get("a"), cache.get("a")]);
    expect(x).toBe(y);
    expect(state.queries).toBe(1);
  });

  it("invalidate drops the row at once, and a query that raced it is not stored", async () => {
    const rows = new Map<string, Row>([["a", { id: "a", title: "old", playable: 1, duration_s: null, media: null }]]);
    const { db, state } = fakeDb(rows);
    const cache = new VideoCache(db);
    await cache.get("a");
    rows.get("a")!.title = "new";
    cache.invalidate("a");
    expect(await cache.get("a")).toMatchObject({ title: "new" });

    let open!: () => void;
    state.gate = new Promise((r) => (open = r));
    const racing = cache.get("a");
    await sleep(5);
    cache.invalidate("a");
    open();
    state.gate = null;
    // the waiter still gets its answer...
    expect(await racing).toMatchObject({ title: "new" });
    const before = state.queries;
    // ...but the next get queries again
    await cache.get("a");
    expect(state.queries).toBe(before + 1);
  });

  it("is bounded by maxEntries", async () => {
    const { db, state } = fakeDb(new Map());
    const cache = new VideoCache(db, 10_000, 2);
    for (const id of ["a", "b", "c"]) await cache.get(id);
    expect(state.queries).toBe(3);
    await cache.get("c");
    expect(state.queries).toBe(3);
    await cache.get("a");
    expect(state.queries).toBe(4);
  });
});
