/**
 * View counting against a client that rotates what it can rotate for free: User-Agents, the
 * interface half of an IPv6 address, an untrusted X-Forwarded-For. Through the real app and its
 * view counter (the Redis one when REDIS_URL is set), with VIEWS_PER_ADDRESS set low.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../test/app-harness.js";
import { TEST_REDIS_URL } from "../../test/test-env.js";
import { createUser } from "../../test/users.fixtures.js";
import { newId } from "../../lib/ids.js";
import { insertReadyVideo } from "./streaming.fixtures.js";
import { addressGroup, viewerKey } from "./view-counter.js";

const CAP = 3;
const REDIS_PREFIX = `vidflux-test-views-${newId()}`;

async function harness(env: Record<string, string> = {}): Promise<Harness> {
  return createHarness({
    VIEWS_PER_ADDRESS: String(CAP),
    ...(TEST_REDIS_URL ? { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: `${REDIS_PREFIX}-${newId()}` } : {}),
    ...env,
  });
}

async function cleanup(h: Harness | undefined): Promise<void> {
  const redis = h?.ctx.redis;
  if (redis) {
    await h.domains.streaming.views.flush();
    const keys = await redis.keys(`${h.config.redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
  }
  await h?.close();
}

async function newVideo(h: Harness): Promise<string> {
  const owner = await createUser(h, { role: "uploader" });
  return (await insertReadyVideo(h.ctx, { ownerId: owner.user.id })).id;
}

async function flushedViews(h: Harness, id: string): Promise<number> {
  await h.domains.streaming.views.flush();
  const r = await h.ctx.db.selectFrom("videos").select("views").where("id", "=", id).executeTakeFirstOrThrow();
  return Number(r.views);
}

/** POST /view/ as `remoteAddress` with `headers`; true when the view counted. */
async function view(h: Harness, id: string, remoteAddress: string, headers: Record<string, string>): Promise<boolean> {
  const r = await h.app.inject({ method: "POST", url: `/api/videos/${id}/view/`, remoteAddress, headers });
  expect(r.statusCode).toBe(202);
  return (r.json() as { counted: boolean }).counted;
}

describe("addressGroup", () => {
  it("IPv4 as is, IPv4-mapped IPv6 as its IPv4, IPv6 by its /64", () => {
    expect(addressGroup("198.51.100.7")).toBe("198.51.100.7");
    expect(addressGroup("::ffff:198.51.100.7")).toBe("198.51.100.7");
    expect(addressGroup("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("2001:0db8:0001:0002::1")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressGroup("[2001:DB8:1:2::5]")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressGroup("::1")).toBe("0:0:0:0::/64");
  });

  it("the viewer key follows the user agent, the address key does not", () => {
    const key = Buffer.alloc(32, 7);
    const a = viewerKey(null, "198.51.100.7", "ua-1", key);
    const b = viewerKey(null, "198.51.100.7", "ua-2", key);
    expect(a.key).not.toBe(b.key);
    expect(a.address).toBe(b.address);
    expect(a.address).not.toContain("198.51");
    expect(viewerKey(null, "2001:db8:1:2::1", "ua", key).address).toBe(viewerKey(null, "2001:db8:1:2::ffff", "ua", key).address);
    expect(viewerKey("user-1", "198.51.100.7", "ua", key)).toEqual({ key: "u:user-1", address: null });
  });
});

describe("views from one address (TRUST_PROXY off)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => cleanup(h));

  it(`50 requests with 50 User-Agents from one address count at most VIEWS_PER_ADDRESS (${CAP})`, async () => {
    const id = await newVideo(h);
    const counted: boolean[] = [];
    for (let i = 0; i < 50; i++) counted.push(await view(h, id, "198.51.100.7", { "user-agent": `bot/${i}.0 (${newId()})` }));
    expect(counted.filter(Boolean)).toHaveLength(CAP);
    expect(await flushedViews(h, id)).toBe(CAP);
    // another address still counts; so does another video from the capped address
    expect(await view(h, id, "203.0.113.9", { "user-agent": "bot/0.0" })).toBe(true);
    const other = await newVideo(h);
    expect(await view(h, other, "198.51.100.7", { "user-agent": "bot/0.0" })).toBe(true);
    expect(await flushedViews(h, id)).toBe(CAP + 1);
  });

  it("rotating the IPv6 interface identifier or an untrusted X-Forwarded-For does not help", async () => {
    const id = await newVideo(h);
    const counted: boolean[] = [];
    for (let i = 0; i < 20; i++) {
      const ip = `2001:db8:42:7:${(i + 1).toString(16)}::${(i * 7 + 1).toString(16)}`;
      counted.push(await view(h, id, ip, { "user-agent": `ua-${i}`, "x-forwarded-for": `192.0.2.${i + 1}` }));
    }
    expect(counted.filter(Boolean)).toHaveLength(CAP);
    expect(await flushedViews(h, id)).toBe(CAP);
  });
});

describe("views behind a trusted proxy (TRUST_PROXY=true)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ TRUST_PROXY: "true" });
  });
  afterAll(async () => cleanup(h));

  it("the cap applies to each forwarded client, not to the proxy's address", async () => {
    const id = await newVideo(h);
    let counted = 0;
    for (let client = 1; client <= 4; client++) {
      for (let ua = 0; ua < 10; ua++) {
        if (await view(h, id, "10.0.0.2", { "user-agent": `ua-${ua}`, "x-forwarded-for": `198.51.100.${client}` })) counted++;
      }
    }
    expect(counted).toBe(4 * CAP);
    expect(await flushedViews(h, id)).toBe(4 * CAP);
  });
});
