/**
 * The one behavioural contract every EventBus adapter must pass (SSE replay and live delivery
 * depend on exactly these guarantees).
 */
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { REPLAY_BUFFER_SIZE, type EventBus, type VideoEvent } from "./events.js";

export interface EventBusContractOptions {
  /** Whether two instances share events (Redis) or are isolated (memory). */
  crossInstance: boolean;
  cleanup?: () => Promise<void>;
}

/** Hooks every adapter accepts, so the contract can observe listener failures without console noise. */
export interface BusHooks {
  onListenerError: (err: unknown) => void;
}

/** Polls until `check` passes; delivery over Redis is asynchronous. */
async function eventually(check: () => void, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

export function eventBusContract(
  name: string,
  makeBus: (hooks: BusHooks) => EventBus | Promise<EventBus>,
  opts: EventBusContractOptions,
): void {
  describe(`EventBus contract: ${name}`, () => {
    const buses: EventBus[] = [];
    const listenerErrors: unknown[] = [];
    const newBus = async (): Promise<EventBus> => {
      const bus = await makeBus({ onListenerError: (err) => listenerErrors.push(err) });
      buses.push(bus);
      return bus;
    };
    const video = (): string => `vid-${randomUUID()}`;

    afterAll(async () => {
      await Promise.all(buses.map((b) => b.close()));
      await opts.cleanup?.();
    });

    it("assigns seq from 1, monotonically, per video", async () => {
      const bus = await newBus();
      const v1 = video();
      const v2 = video();
      const a = await bus.publish(v1, { type: "upload.progress", bytes: 10 });
      const b = await bus.publish(v1, { type: "upload.progress", bytes: 20 });
      const c = await bus.publish(v2, { type: "status", status: "processing" });
      expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 1]);
      expect(a).toMatchObject({ type: "upload.progress", video_id: v1, bytes: 10 });
      expect(new Date(a.at).toISOString()).toBe(a.at);
    });

    it("does not let the payload override seq, video_id or at", async () => {
      const bus = await newBus();
      const v = video();
      const e = await bus.publish(v, { type: "x", seq: 99, video_id: "other", at: "yesterday" });
      expect(e.seq).toBe(1);
      expect(e.video_id).toBe(v);
      expect(e.at).not.toBe("yesterday");
    });

    it("keeps call order under concurrent publishes", async () => {
      const bus = await newBus();
      const v = video();
      const published = await Promise.all(Array.from({ length: 50 }, (_, i) => bus.publish(v, { type: "tick", i })));
      expect(published.map((e) => e.seq)).toEqual(published.map((_, i) => i + 1));
      expect((await bus.history(v, 0)).map((e) => e.i)).toEqual(published.map((_, i) => i));
    });

    it("returns history after a seq, oldest first", async () => {
      const bus = await newBus();
      const v = video();
      const published: VideoEvent[] = [];
      for (let i = 0; i < 5; i++) published.push(await bus.publish(v, { type: "tick", i }));
      expect(await bus.history(v, 0)).toEqual(published);
      expect((await bus.history(v, 3)).map((e) => e.seq)).toEqual([4, 5]);
      expect(await bus.history(v, 5)).toEqual([]);
      expect(await bus.history(video(), 0)).toEqual([]);
    });

    it(`bounds history to the last ${REPLAY_BUFFER_SIZE} events`, async () => {
      const bus = await newBus();
      const v = video();
      const total = REPLAY_BUFFER_SIZE + 10;
      await Promise.all(Array.from({ length: total }, (_, i) => bus.publish(v, { type: "tick", i })));
      const h = await bus.history(v, 0);
      expect(h).toHaveLength(REPLAY_BUFFER_SIZE);
      expect(h[0]!.seq).toBe(11);
      expect(h.at(-1)!.seq).toBe(total);
      expect(h.every((e, i) => i === 0 || e.seq === h[i - 1]!.seq + 1)).toBe(true);
      expect((await bus.history(v, total - 3)).map((e) => e.seq)).toEqual([total - 2, total - 1, total]);
    });

    it("delivers live events to subscribers of that video only, in order", async () => {
      const bus = await newBus();
      const v = video();
      const got: VideoEvent[] = [];
      const other: VideoEvent[] = [];
      const unsub = await bus.subscribe(v, (e) => got.push(e));
      const unsubOther = await bus.subscribe(video(), (e) => other.push(e));
      const sent = [await bus.publish(v, { type: "a" }), await bus.publish(v, { type: "b" }), await bus.publish(v, { type: "c" })];
      await eventually(() => expect(got).toEqual(sent));
      expect(other).toEqual([]);
      await unsub();
      await unsubOther();
    });

    it("stops delivering after unsubscribe, without affecting other listeners", async () => {
      const bus = await newBus();
      const v = video();
      const a: VideoEvent[] = [];
      const b: VideoEvent[] = [];
      const unsubA = await bus.subscribe(v, (e) => a.push(e));
      const unsubB = await bus.subscribe(v, (e) => b.push(e));
      await bus.publish(v, { type: "first" });
      await eventually(() => expect([a.length, b.length]).toEqual([1, 1]));

      await unsubA();
      await unsubA(); // idempotent
      await bus.publish(v, { type: "second" });
      // B is on the same delivery path, so once B has "second", A would have had it too.
      await eventually(() => expect(b.map((e) => e.type)).toEqual(["first", "second"]));
      expect(a.map((e) => e.type)).toEqual(["first"]);

      await unsubB();
      const c: VideoEvent[] = [];
      const unsubC = await bus.subscribe(v, (e) => c.push(e));
      await bus.publish(v, { type: "third" });
      await eventually(() => expect(c.map((e) => e.type)).toEqual(["third"]));
      expect(b).toHaveLength(2);
      await unsubC();
    });

    it("isolates a throwing listener from the publisher and other listeners", async () => {
      const bus = await newBus();
      const v = video();
      const good: VideoEvent[] = [];
      const before = listenerErrors.length;
      const unsubBad = await bus.subscribe(v, () => {
        throw new Error("listener bug");
      });
      const unsubGood = await bus.subscribe(v, (e) => good.push(e));
      await expect(bus.publish(v, { type: "x" })).resolves.toMatchObject({ seq: 1 });
      await eventually(() => expect(good).toHaveLength(1));
      expect(listenerErrors.length).toBe(before + 1);
      await unsubBad();
      await unsubGood();
    });

    it.skipIf(!opts.crossInstance)("fans out across bus instances", async () => {
      const busA = await newBus();
      const busB = await newBus();
      const v = video();
      const gotB: VideoEvent[] = [];
      const unsub = await busB.subscribe(v, (e) => gotB.push(e));
      const e1 = await busA.publish(v, { type: "from-a" });
      await eventually(() => expect(gotB).toEqual([e1]));
      // seq and replay are shared too: B continues A's sequence and sees A's history.
      const e2 = await busB.publish(v, { type: "from-b" });
      expect(e2.seq).toBe(2);
      expect(await busA.history(v, 0)).toEqual([e1, e2]);
      await unsub();
    });

    it("refuses work after close()", async () => {
      const bus = await newBus();
      const v = video();
      await bus.subscribe(v, () => undefined);
      await bus.publish(v, { type: "x" });
      await bus.close();
      await bus.close(); // idempotent
      await expect(bus.publish(v, { type: "y" })).rejects.toThrow();
      await expect(bus.history(v, 0)).rejects.toThrow();
      await expect(bus.subscribe(v, () => undefined)).rejects.toThrow();
    });
  });
}
