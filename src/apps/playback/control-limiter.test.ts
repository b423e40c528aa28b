/**
 * The per-device control limiter: a token bucket read against an injected clock (so refill is
 * exact and nothing sleeps), then once through the real app's HTTP fallback with RATE_LIMIT on,
 * for the 429 envelope and its Retry-After header.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../lib/errors.js";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { authHeader, createUser, type TestUser } from "../../test/users.fixtures.js";
import { ControlLimiter } from "./control-limiter.js";
import { insertPlaybackVideo, streamQuery } from "./playback.fixtures.js";

const T = 1_700_000_000_000;

/** A limiter on a clock the test moves. */
function limiter(rate: number, burst: number, enabled = true) {
  const clock = { now: T };
  return { clock, l: new ControlLimiter({ enabled, rate, burst, now: () => clock.now }) };
}

function refusal(fn: () => void): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error("expected rate_limited, the message was let through");
}

describe("ControlLimiter", () => {
  it("lets a burst through, then refuses with 429 rate_limited and when to retry", () => {
    const { l } = limiter(10, 3);
    for (let i = 0; i < 3; i++) l.take("s|phone");
    const e = refusal(() => l.take("s|phone"));
    expect(e).toMatchObject({ status: 429, code: "rate_limited", message: "Too many control messages; slow down.", details: { retry_after_s: 0.1 }, headers: { "retry-after": "1" } });
  });

  it("refills at `rate` per second: one token per 100 ms at 10/s", () => {
    const { l, clock } = limiter(10, 3);
    for (let i = 0; i < 3; i++) l.take("k");
    clock.now += 50;
    // half a token: refused, and told the other half takes 50 ms
    expect(refusal(() => l.take("k")).details).toEqual({ retry_after_s: 0.05 });
    clock.now += 50;
    l.take("k");
    expect(refusal(() => l.take("k")).details).toEqual({ retry_after_s: 0.1 });
    clock.now += 250;
    l.take("k");
    l.take("k");
    expect(refusal(() => l.take("k")).details).toEqual({ retry_after_s: 0.05 });
  });

  it("a refused message costs nothing: the bucket still refills on time", () => {
    const { l, clock } = limiter(10, 1);
    l.take("k");
    for (let i = 0; i < 20; i++) refusal(() => l.take("k"));
    clock.now += 100;
    l.take("k");
  });

  it("never saves up more than the burst, however long the device was quiet", () => {
    const { l, clock } = limiter(10, 3);
    l.take("k");
    clock.now += 3_600_000;
    for (let i = 0; i < 3; i++) l.take("k");
    expect(refusal(() => l.take("k")).code).toBe("rate_limited");
  });

  it("keeps one bucket per key (session and device)", () => {
    const { l } = limiter(1, 2);
    l.take("s1|phone");
    l.take("s1|phone");
    refusal(() => l.take("s1|phone"));
    l.take("s1|tv");
    l.take("s2|phone");
  });

  it("rounds Retry-After up to whole seconds", () => {
    const { l } = limiter(1, 1);
    l.take("k");
    expect(refusal(() => l.take("k"))).toMatchObject({ details: { retry_after_s: 1 }, headers: { "retry-after": "1" } });
    const slow = new ControlLimiter({ enabled: true, rate: 0.25, burst: 1, now: () => T });
    slow.take("k");
    expect(refusal(() => slow.take("k"))).toMatchObject({ details: { retry_after_s: 4 }, headers: { "retry-after": "4" } });
  });

  it("lets everything through when disabled", () => {
    const { l } = limiter(1, 1, false);
    for (let i = 0; i < 1000; i++) l.take("k");
  });

  it("reads the real clock when none is injected", () => {
    const l = new ControlLimiter({ enabled: true, rate: 1, burst: 2 });
    l.take("k");
    l.take("k");
    expect(refusal(() => l.take("k")).code).toBe("rate_limited");
  });
});

describe("the limiter in the app (HTTP fallback, RATE_LIMIT on)", () => {
  let h: Harness;
  let u: TestUser;
  let videoId: string;

  beforeAll(async () => {
    // The slowest refill the config takes (1/s): a few quick requests empty a bucket of 2.
    h = await createHarness({ RATE_LIMIT: "true", PLAYBACK_CONTROL_RATE: "1", PLAYBACK_CONTROL_BURST: "2" });
    u = await createUser(h);
    videoId = await insertPlaybackVideo(h, u.user.id);
  });
  afterAll(async () => h.close());

  const control = (device: string, payload: unknown) =>
    h.app.inject({ method: "POST", url: `/api/stream/${videoId}/control/${streamQuery({ device })}`, headers: authHeader(u.access), payload: payload as Record<string, unknown> });

  it("answers 429 rate_limited with Retry-After past the burst, per device", async () => {
    // Seeks to 0, 1, 2, …: the burst (2) goes through, then a refusal — unless the machine is so
    // slow that a request takes a whole second (the refill), hence a bounded loop, not "the 3rd".
    let refused: Awaited<ReturnType<typeof control>> | null = null;
    let accepted = 0;
    while (!refused && accepted < 20) {
      const r = await control("remote", { type: "seek", position: accepted });
      if (r.statusCode === 429) refused = r;
      else {
        expect(r.statusCode, r.body).toBe(200);
        accepted++;
      }
    }
    expect(refused, "never rate limited").not.toBeNull();
    expect(accepted).toBeGreaterThanOrEqual(2);
    expect(refused!.headers["retry-after"]).toBe("1");
    expect(refused!.json()).toEqual({ error: { code: "rate_limited", message: "Too many control messages; slow down.", details: { retry_after_s: expect.any(Number) } } });
    const retry = (refused!.json() as { error: { details: { retry_after_s: number } } }).error.details.retry_after_s;
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(1);
    // Another device of the same session has its own bucket; the refused seek changed nothing.
    const other = await control("tv", { type: "sync" });
    expect(other.statusCode).toBe(200);
    expect(other.json()).toMatchObject({ state: { status: "paused", position: accepted - 1 } });
  });
});
