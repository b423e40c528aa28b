/**
 * The one behavioural contract every StateHub adapter must pass. Live playback sessions rely on
 * exactly these guarantees (no lost update under concurrent writers, members that expire on their
 * own, ordered fan-out), so the embedded and the Redis deployment behave alike.
 */
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import type { StateHub } from "./state-hub.js";

export interface StateHubContractOptions {
  /** Whether two instances share state (Redis) or are isolated (memory). */
  crossInstance: boolean;
  cleanup?: () => Promise<void>;
}

/** Hooks every adapter accepts, so the contract can observe listener failures without console noise. */
export interface HubHooks {
  onListenerError: (err: unknown) => void;
}

/** Polls until `check` passes; delivery is asynchronous in every adapter. */
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Long enough that nothing expires during a test, short enough that a leftover key does not linger. */
const TTL = 60;

export function stateHubContract(name: string, makeHub: (hooks: HubHooks) => StateHub | Promise<StateHub>, opts: StateHubContractOptions): void {
  describe(`StateHub contract: ${name}`, () => {
    const hubs: StateHub[] = [];
    const listenerErrors: unknown[] = [];
    const newHub = async (): Promise<StateHub> => {
      const hub = await makeHub({ onListenerError: (err) => listenerErrors.push(err) });
      hubs.push(hub);
      return hub;
    };
    const key = (): string => `k-${randomUUID()}`;

    afterAll(async () => {
      await Promise.all(hubs.map((h) => h.close()));
      await opts.cleanup?.();
    });

    describe("records", () => {
      it("returns null for an absent key", async () => {
        const hub = await newHub();
        expect(await hub.get(key())).toBeNull();
      });

      it("creates with expected version 0, and only once", async () => {
        const hub = await newHub();
        const k = key();
        expect(await hub.compareAndSet(k, 0, "first", TTL)).toBe(1);
        expect(await hub.get(k)).toEqual({ version: 1, data: "first" });
        expect(await hub.compareAndSet(k, 0, "second", TTL)).toBeNull();
        expect(await hub.get(k)).toEqual({ version: 1, data: "first" });
      });

      it("writes only over the version that was read", async () => {
        const hub = await newHub();
        const k = key();
        await hub.compareAndSet(k, 0, "v1", TTL);
        expect(await hub.compareAndSet(k, 1, "v2", TTL)).toBe(2);
        expect(await hub.compareAndSet(k, 1, "stale", TTL)).toBeNull();
        expect(await hub.compareAndSet(k, 3, "future", TTL)).toBeNull();
        expect(await hub.get(k)).toEqual({ version: 2, data: "v2" });
        // An absent record has no version to match but 0.
        expect(await hub.compareAndSet(key(), 1, "x", TTL)).toBeNull();
      });

      it("stores data byte for byte", async () => {
        const hub = await newHub();
        const k = key();
        const data = JSON.stringify({ pos: 12.5, paused: true, note: "a|b\nc \u00e9\u{1F3AC}", list: [] });
        await hub.compareAndSet(k, 0, data, TTL);
        expect((await hub.get(k))?.data).toBe(data);
        expect(await hub.compareAndSet(k, 1, "", TTL)).toBe(2);
        expect(await hub.get(k)).toEqual({ version: 2, data: "" });
      });

      it("lets exactly one of many concurrent writers of the same version win", async () => {
        const hub = await newHub();
        const k = key();
        await hub.compareAndSet(k, 0, "base", TTL);
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => hub.compareAndSet(k, 1, `w${i}`, TTL)));
        const winners = results.flatMap((r, i) => (r === null ? [] : [i]));
        expect(winners).toHaveLength(1);
        expect(results[winners[0]!]).toBe(2);
        expect(await hub.get(k)).toEqual({ version: 2, data: `w${winners[0]}` });
      });

      it("loses no update when concurrent writers re-read and retry", async () => {
        const hubA = await newHub();
        // Across instances when they share state, so the race also spans connections.
        const hubB = opts.crossInstance ? await newHub() : hubA;
        const k = key();
        await hubA.compareAndSet(k, 0, JSON.stringify({ count: 0 }), TTL);
        const increment = async (hub: StateHub): Promise<number> => {
          for (let attempt = 1; ; attempt++) {
            const rec = await hub.get(k);
            if (!rec) throw new Error("record vanished");
            const { count } = JSON.parse(rec.data) as { count: number };
            if ((await hub.compareAndSet(k, rec.version, JSON.stringify({ count: count + 1 }), TTL)) !== null) return attempt;
          }
        };
        const attempts = await Promise.all(Array.from({ length: 50 }, (_, i) => increment(i % 2 === 0 ? hubA : hubB)));
        expect(attempts.some((a) => a > 1)).toBe(true); // there really was contention
        const rec = await hubA.get(k);
        expect(rec?.version).toBe(51);
        expect(JSON.parse(rec!.data)).toEqual({ count: 50 });
      });

      it("touch extends an existing record without changing it", async () => {
        const hub = await newHub();
        const k = key();
        expect(await hub.touch(k, TTL)).toBe(false);
        expect(await hub.get(k)).toBeNull(); // touch does not create
        await hub.compareAndSet(k, 0, "x", TTL);
        expect(await hub.touch(k, TTL)).toBe(true);
        expect(await hub.get(k)).toEqual({ version: 1, data: "x" });
      });

      it("delete removes a record, and the next create starts at version 1 again", async () => {
        const hub = await newHub();
        const k = key();
        await hub.compareAndSet(k, 0, "a", TTL);
        await hub.compareAndSet(k, 1, "b", TTL);
        await hub.delete(k);
        expect(await hub.get(k)).toBeNull();
        await hub.delete(k); // absent: no-op
        await hub.delete(key());
        expect(await hub.compareAndSet(k, 0, "c", TTL)).toBe(1);
      });

      it("rejects a non-positive TTL and an invalid expected version", async () => {
        const hub = await newHub();
        const k = key();
        await expect(hub.compareAndSet(k, 0, "x", 0)).rejects.toThrow(RangeError);
        await expect(hub.compareAndSet(k, -1, "x", TTL)).rejects.toThrow(RangeError);
        await expect(hub.compareAndSet(k, 0.5, "x", TTL)).rejects.toThrow(RangeError);
        await expect(hub.touch(k, -1)).rejects.toThrow(RangeError);
        await expect(hub.setMember(k, "m", "x", Number.NaN)).rejects.toThrow(RangeError);
        expect(await hub.get(k)).toBeNull();
      });
    });

    describe("member sets", () => {
      it("adds, refreshes with new data, and removes members", async () => {
        const hub = await newHub();
        const s = key();
        expect(await hub.members(s)).toEqual(new Map());
        await hub.setMember(s, "tv", '{"role":"screen"}', TTL);
        await hub.setMember(s, "phone", "remote", TTL);
        expect(await hub.members(s)).toEqual(
          new Map([
            ["tv", '{"role":"screen"}'],
            ["phone", "remote"],
          ]),
        );
        await hub.setMember(s, "tv", "a|b", TTL); // data replaced, not added
        expect(await hub.members(s)).toEqual(
          new Map([
            ["tv", "a|b"],
            ["phone", "remote"],
          ]),
        );
        await hub.removeMember(s, "tv");
        await hub.removeMember(s, "tv"); // absent: no-op
        await hub.removeMember(key(), "tv");
        expect(await hub.members(s)).toEqual(new Map([["phone", "remote"]]));
        await hub.removeMember(s, "phone");
        expect(await hub.members(s)).toEqual(new Map());
        await hub.setMember(s, "phone", "", TTL); // a set emptied once can be joined again
        expect(await hub.members(s)).toEqual(new Map([["phone", ""]]));
      });

      it("keeps sets apart from each other and from records", async () => {
        const hub = await newHub();
        const s1 = key();
        const s2 = key();
        await hub.setMember(s1, "a", "1", TTL);
        await hub.setMember(s2, "b", "2", TTL);
        expect(await hub.members(s1)).toEqual(new Map([["a", "1"]]));
        expect(await hub.members(s2)).toEqual(new Map([["b", "2"]]));
        // A record and a member set under the same key coexist.
        expect(await hub.compareAndSet(s1, 0, "rec", TTL)).toBe(1);
        expect(await hub.members(s1)).toEqual(new Map([["a", "1"]]));
        await hub.delete(s1);
        expect(await hub.members(s1)).toEqual(new Map([["a", "1"]]));
      });
    });

    // One test waits for every kind of expiry at once, so the suite stays fast.
    it("expires records and members after their TTL unless touched or refreshed", async () => {
      const hub = await newHub();
      const gone = key();
      const touched = key();
      const s = key();
      await hub.compareAndSet(gone, 0, "x", 1);
      await hub.compareAndSet(touched, 0, "y", 1);
      expect(await hub.touch(touched, TTL)).toBe(true);
      // A long-lived member first, then a short one: the short one must not shorten the other's life.
      await hub.setMember(s, "long", "L", TTL);
      await hub.setMember(s, "short", "S", 1);
      await hub.setMember(s, "refreshed", "R0", 1);
      await hub.setMember(s, "refreshed", "R1", TTL);
      expect(await hub.get(gone)).toEqual({ version: 1, data: "x" });
      expect((await hub.members(s)).size).toBe(3);

      await sleep(1200);
      expect(await hub.get(gone)).toBeNull();
      expect(await hub.touch(gone, TTL)).toBe(false);
      expect(await hub.get(touched)).toEqual({ version: 1, data: "y" });
      expect(await hub.members(s)).toEqual(
        new Map([
          ["long", "L"],
          ["refreshed", "R1"],
        ]),
      );
      // An expired record is absent: the old version no longer matches, a fresh create starts at 1.
      expect(await hub.compareAndSet(gone, 1, "stale", TTL)).toBeNull();
      expect(await hub.compareAndSet(gone, 0, "again", TTL)).toBe(1);
    });

    describe("channels", () => {
      it("delivers every message in publish order", async () => {
        const hub = await newHub();
        const ch = key();
        const got: string[] = [];
        const unsub = await hub.subscribe(ch, (m) => got.push(m));
        const sent = Array.from({ length: 100 }, (_, i) => `m${i}`);
        // Not awaited one by one: order must follow the calls, not the round trips.
        await Promise.all(sent.map((m) => hub.publish(ch, m)));
        await eventually(() => expect(got).toEqual(sent));
        await unsub();
      });

      it("delivers messages unchanged", async () => {
        const hub = await newHub();
        const ch = key();
        const got: string[] = [];
        const unsub = await hub.subscribe(ch, (m) => got.push(m));
        const sent = ['{"type":"seek","to":42}', "", "a|b\nc \u00e9\u{1F3AC}"];
        for (const m of sent) await hub.publish(ch, m);
        await eventually(() => expect(got).toEqual(sent));
        await unsub();
      });

      it("gives each listener of a channel every message", async () => {
        const hub = await newHub();
        const ch = key();
        const a: string[] = [];
        const b: string[] = [];
        const unsubA = await hub.subscribe(ch, (m) => a.push(m));
        const unsubB = await hub.subscribe(ch, (m) => b.push(m));
        for (const m of ["1", "2", "3"]) await hub.publish(ch, m);
        await eventually(() => expect([a, b]).toEqual([["1", "2", "3"], ["1", "2", "3"]]));
        await unsubA();
        await unsubB();
      });

      it("stops delivering after unsubscribe (idempotent) without affecting other listeners", async () => {
        const hub = await newHub();
        const ch = key();
        const a: string[] = [];
        const b: string[] = [];
        const unsubA = await hub.subscribe(ch, (m) => a.push(m));
        const unsubB = await hub.subscribe(ch, (m) => b.push(m));
        await hub.publish(ch, "first");
        await eventually(() => expect([a.length, b.length]).toEqual([1, 1]));

        await unsubA();
        await unsubA();
        await hub.publish(ch, "second");
        // B is on the same delivery path, so once B has "second", A would have had it too.
        await eventually(() => expect(b).toEqual(["first", "second"]));
        expect(a).toEqual(["first"]);

        await unsubB();
        await unsubB();
        // With no listener left the channel is released; a new one subscribes it again.
        const c: string[] = [];
        const unsubC = await hub.subscribe(ch, (m) => c.push(m));
        await hub.publish(ch, "third");
        await eventually(() => expect(c).toEqual(["third"]));
        expect([a, b]).toEqual([["first"], ["first", "second"]]);
        await unsubC();
      });

      it("keeps channels apart", async () => {
        const hub = await newHub();
        const ch1 = key();
        const ch2 = key();
        const got1: string[] = [];
        const got2: string[] = [];
        const unsub1 = await hub.subscribe(ch1, (m) => got1.push(m));
        const unsub2 = await hub.subscribe(ch2, (m) => got2.push(m));
        await hub.publish(ch1, "for-1");
        await hub.publish(ch2, "for-2");
        await hub.publish(key(), "for-nobody"); // publishing without subscribers is fine
        await eventually(() => expect([got1, got2]).toEqual([["for-1"], ["for-2"]]));
        // Channels and records are separate namespaces.
        await hub.compareAndSet(ch1, 0, "rec", TTL);
        expect(got1).toEqual(["for-1"]);
        await unsub1();
        await unsub2();
      });

      it("isolates a throwing listener from the publisher and other listeners", async () => {
        const hub = await newHub();
        const ch = key();
        const good: string[] = [];
        const before = listenerErrors.length;
        const unsubBad = await hub.subscribe(ch, () => {
          throw new Error("listener bug");
        });
        const unsubGood = await hub.subscribe(ch, (m) => good.push(m));
        await expect(hub.publish(ch, "x")).resolves.toBeUndefined();
        await hub.publish(ch, "y");
        await eventually(() => expect(good).toEqual(["x", "y"]));
        await eventually(() => expect(listenerErrors.length).toBe(before + 2));
        expect(listenerErrors.at(-1)).toBeInstanceOf(Error);
        await unsubBad();
        await unsubGood();
      });
    });

    describe.skipIf(!opts.crossInstance)("across instances", () => {
      it("shares records and their versions", async () => {
        const hubA = await newHub();
        const hubB = await newHub();
        const k = key();
        expect(await hubA.compareAndSet(k, 0, "from-a", TTL)).toBe(1);
        expect(await hubB.get(k)).toEqual({ version: 1, data: "from-a" });
        expect(await hubB.compareAndSet(k, 0, "b-create", TTL)).toBeNull();
        expect(await hubB.compareAndSet(k, 1, "from-b", TTL)).toBe(2);
        expect(await hubA.compareAndSet(k, 1, "a-stale", TTL)).toBeNull();
        expect(await hubA.get(k)).toEqual({ version: 2, data: "from-b" });
        expect(await hubA.touch(k, TTL)).toBe(true);
        await hubB.delete(k);
        expect(await hubA.get(k)).toBeNull();
      });

      it("shares member sets", async () => {
        const hubA = await newHub();
        const hubB = await newHub();
        const s = key();
        await hubA.setMember(s, "on-a", "1", TTL);
        await hubB.setMember(s, "on-b", "2", TTL);
        const expected = new Map([
          ["on-a", "1"],
          ["on-b", "2"],
        ]);
        expect(await hubA.members(s)).toEqual(expected);
        expect(await hubB.members(s)).toEqual(expected);
        await hubB.removeMember(s, "on-a");
        expect(await hubA.members(s)).toEqual(new Map([["on-b", "2"]]));
      });

      it("fans channel messages out to every instance's subscribers", async () => {
        const hubA = await newHub();
        const hubB = await newHub();
        const hubC = await newHub();
        const ch = key();
        const gotB: string[] = [];
        const gotC: string[] = [];
        const unsubB = await hubB.subscribe(ch, (m) => gotB.push(m));
        const unsubC = await hubC.subscribe(ch, (m) => gotC.push(m));
        const sent = Array.from({ length: 20 }, (_, i) => `a${i}`);
        await Promise.all(sent.map((m) => hubA.publish(ch, m)));
        await eventually(() => expect([gotB, gotC]).toEqual([sent, sent]));
        await unsubB();
        await hubA.publish(ch, "after");
        await eventually(() => expect(gotC.at(-1)).toBe("after"));
        expect(gotB).toEqual(sent);
        await unsubC();
      });
    });

    it("refuses work after close()", async () => {
      const hub = await newHub();
      const k = key();
      const unsub = await hub.subscribe(k, () => undefined);
      await hub.compareAndSet(k, 0, "x", TTL);
      await hub.close();
      await hub.close(); // idempotent
      await unsub(); // releasing after close is harmless
      const refused = [
        hub.get(k),
        hub.compareAndSet(k, 1, "y", TTL),
        hub.touch(k, TTL),
        hub.delete(k),
        hub.setMember(k, "m", "d", TTL),
        hub.removeMember(k, "m"),
        hub.members(k),
        hub.publish(k, "m"),
        hub.subscribe(k, () => undefined),
      ];
      // All awaited together: a rejection left waiting for a handler would be reported as unhandled.
      await Promise.all(refused.map((p) => expect(p).rejects.toThrow("StateHub is closed")));
    });
  });
}
