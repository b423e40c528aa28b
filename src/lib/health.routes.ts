/**
 * Health for load balancers and orchestrators. `live`: the process runs and its event loop
 * answers (restart it otherwise); nothing else is checked, so a database outage does not get
 * every API process restarted at once. `ready`: it can serve: the database answers, Redis
 * answers (when configured) and storage takes a write; otherwise 503 naming the failing parts,
 * so the balancer sends traffic elsewhere until they are back. `/api/health/` is the older
 * combined check (process + database), kept for existing probes. While the process shuts down
 * (SIGTERM, lib/drain.plugin.ts), `ready` answers 503 with `shutting_down` among the failing
 * parts whatever the others say: a balancer probing over a connection still open stops sending.
 */
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { Type } from "@sinclair/typebox";
import type { Redis } from "ioredis";
import type { Db } from "../platform/db/db.js";
import type { Storage } from "../platform/storage/storage.js";
import type { App } from "./app.types.js";
import { errors, StringEnum } from "./schemas.js";

export interface HealthDeps {
  db: Db;
  dbKind: "sqlite" | "postgres";
  redis: Redis | null;
  storage: Storage;
  /** aborted once the app starts closing: ready answers 503 `shutting_down` from then on */
  draining?: AbortSignal;
  /** how long one part may take to answer before it counts as failed (default 3 s) */
  checkTimeoutMs?: number;
}

type PartStatus = "ok" | "failed" | "not_configured";
const PARTS = ["database", "redis", "storage"] as const;
type Part = (typeof PARTS)[number];

const PartStatusSchema = StringEnum(["ok", "failed", "not_configured"] as const, { description: "`not_configured`: Redis without REDIS_URL" });
const ChecksSchema = Type.Object({ database: PartStatusSchema, redis: PartStatusSchema, storage: PartStatusSchema });

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export async function healthRoutes(app: App, deps: HealthDeps): Promise<void> {
  const timeoutMs = deps.checkTimeoutMs ?? 3000;
  // One probe object per process: a write and a delete prove the storage takes writes (a full
  // disk, a read-only mount, a bucket policy) without leaving anything behind.
  const probeKey = `health/ready-${randomUUID()}`;
  const database = () => sql`select 1`.execute(deps.db);
  const checks: Record<Part, (() => Promise<unknown>) | null> = {
    database,
    redis: deps.redis ? () => deps.redis!.ping() : null,
    storage: async () => {
      await deps.storage.put(probeKey, "ok", { contentType: "text/plain" });
      await deps.storage.delete(probeKey);
    },
  };

  app.get(
    "/api/health/",
    {
      config: { rateLimit: false },
      schema: {
        tags: ["health"],
        summary: "Liveness and database check",
        description: "The older combined probe; `live/` and `ready/` split it.",
        response: {
          200: Type.Object(
            { status: Type.Literal("ok"), database: Type.String({ description: "`sqlite` or `postgres`" }) },
            { description: "Up, and the database answers", examples: [{ status: "ok", database: "sqlite" }] },
          ),
          ...errors([503, "The database does not answer (`database_unavailable`)"]),
        },
      },
    },
    async (req, reply) => {
      try {
        await within(database(), timeoutMs, "the database");
      } catch (err) {
        req.log.warn({ err }, "health: the database does not answer");
        return reply.status(503).send({ error: { code: "database_unavailable", message: "The database is not reachable.", details: null } });
      }
      return { status: "ok" as const, database: deps.dbKind };
    },
  );

  app.get(
    "/api/health/live/",
    {
      config: { rateLimit: false },
      schema: {
        tags: ["health"],
        summary: "Liveness: the process is up",
        description: "Checks nothing else, so an outage of the database or Redis does not get every process restarted (that is `ready/`).",
        response: {
          200: Type.Object({ status: Type.Literal("ok") }, { description: "The process answers", examples: [{ status: "ok" }] }),
        },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/api/health/ready/",
    {
      config: { rateLimit: false },
      schema: {
        tags: ["health"],
        summary: "Readiness: database, Redis (when configured) and storage answer",
        description: `Each part is checked (within ${timeoutMs / 1000} s): the database with \`select 1\`, Redis with PING, storage with a small write and delete. While the process shuts down (SIGTERM) it answers 503 with \`shutting_down\` among the failing parts, so a load balancer stops sending to it.`,
        response: {
          200: Type.Object(
            { status: Type.Literal("ok"), checks: ChecksSchema },
            { description: "Every part answers", examples: [{ status: "ok", checks: { database: "ok", redis: "not_configured", storage: "ok" } }] },
          ),
          ...errors([503, "A part does not answer, or the process is shutting down (`not_ready`; `details.failing` names them — `shutting_down` included —, `details.checks` has every part's status)"]),
        },
      },
    },
    async (req, reply) => {
      const results = await Promise.all(
        PARTS.map(async (part): Promise<[Part, PartStatus]> => {
          const check = checks[part];
          if (!check) return [part, "not_configured"];
          try {
            await within(check(), timeoutMs, part);
            return [part, "ok"];
          } catch (err) {
            req.log.warn({ err, part }, "readiness check failed");
            return [part, "failed"];
          }
        }),
      );
      const statuses = Object.fromEntries(results) as Record<Part, PartStatus>;
      const failing: string[] = results.filter(([, s]) => s === "failed").map(([p]) => p);
      if (deps.draining?.aborted) {
        return reply.status(503).send({
          error: { code: "not_ready", message: "Not ready: shutting down, this process takes no new work.", details: { failing: ["shutting_down", ...failing], checks: statuses } },
        });
      }
      if (failing.length > 0) {
        return reply.status(503).send({
          error: { code: "not_ready", message: `Not ready: ${failing.join(", ")} ${failing.length === 1 ? "does" : "do"} not answer.`, details: { failing, checks: statuses } },
        });
      }
      return { status: "ok" as const, checks: statuses };
    },
  );
}
