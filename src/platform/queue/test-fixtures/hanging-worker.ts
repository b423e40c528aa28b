/**
 * Child process for the queue contract's crash test: works jobs on the backend described by
 * argv[2] (JSON), prints `started <jobId> <attempt>` when a handler starts and then hangs, so
 * the test can SIGKILL it mid-job. Short lease/lock settings let the test's worker notice soon.
 */
import { createDb } from "../../db/db.js";
import { BullQueue } from "../bullmq.queue.js";
import { DbQueue } from "../db.queue.js";
import type { Queue } from "../queue.js";

export type CrashWorkerSpec =
  | { kind: "db"; dialect: "sqlite"; sqlitePath: string }
  | { kind: "db"; dialect: "postgres"; url: string; schema: string }
  | { kind: "bullmq"; redisUrl: string; prefix: string };

const LEASE_MS = 1_000;

function openQueue(spec: CrashWorkerSpec): Queue {
  const policies = { "video.transcode": { leaseMs: LEASE_MS } };
  if (spec.kind === "bullmq") {
    return new BullQueue(spec.redisUrl, { prefix: spec.prefix, policies, lockDurationMs: LEASE_MS, stalledIntervalMs: 300 });
  }
  const db =
    spec.dialect === "sqlite"
      ? createDb({ kind: "sqlite", sqlitePath: spec.sqlitePath })
      : createDb({ kind: "postgres", url: spec.url, schema: spec.schema, sqlitePath: "" });
  return new DbQueue(db, { dialect: spec.dialect, policies, pollMs: 20 });
}

const spec = JSON.parse(process.argv[2] ?? "") as CrashWorkerSpec;
const queue = openQueue(spec);
await queue.work(
  {
    "video.transcode": (_payload, ctx) => {
      process.stdout.write(`started ${ctx.jobId} ${ctx.attempt}\n`);
      // never settles: the parent kills this process while the job is active
      return new Promise(() => undefined);
    },
  },
  { concurrency: 1 },
);
