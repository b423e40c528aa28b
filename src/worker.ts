/**
 * A conversion worker process (`npm run start:worker`): takes jobs from the queue, reads sources
 * from storage, writes outputs to storage, reports progress and results as queue messages. With
 * REDIS_URL (BullMQ) it needs no database at all; without it, the embedded queue lives in the
 * SQLite/PostgreSQL database, so the worker opens it for the queue's sake only.
 */
import { loadConfigOrExit } from "./config.js";
import { openDb } from "./platform/db/db.js";
import { createStorage } from "./platform/storage/storage.factory.js";
import { createQueue } from "./platform/queue/queue.factory.js";
import { locateMedia } from "./platform/media/media-tools.js";
import { composeJobHandlers } from "./composition.js";
import { createRegistry, JobMetrics, serveMetrics } from "./lib/metrics.js";
import { createLogger } from "./lib/request-log.js";
import { onShutdownSignal } from "./lib/shutdown.js";

async function main(): Promise<void> {
  const config = loadConfigOrExit("vidflux worker");
  const logger = createLogger({ level: config.logLevel, nodeEnv: config.nodeEnv });
  const tools = await locateMedia(config);
  logger.info({ ffmpeg: tools.ffmpeg, source: tools.source, memoryLimitBytes: tools.memoryLimit?.bytes ?? null }, `using ffmpeg ${tools.version} (${tools.source})`);
  const storage = await createStorage(config);
  // Workers never migrate: the API (or `npm run migrate`) owns the schema. Two kinds of process
  // migrating at the same moment is how half-migrated schemas happen.
  const db = config.redisUrl ? null : await openDb(config.db, { migrate: false });
  if (db) {
    try {
      await db.selectFrom("jobs").select("id").limit(1).execute();
    } catch {
      throw new Error("the jobs table is missing: start the API (npm start / start:api) or run `npm run migrate` first");
    }
  }
  const queue = await createQueue(config, db);
  const registry = createRegistry();
  const handlers = new JobMetrics(registry).instrument(composeJobHandlers({ config, storage, media: tools }));
  // Off by default: a worker opens no port unless WORKER_METRICS_PORT asks for one.
  const metricsServer = config.workerMetrics.port > 0 ? await serveMetrics(registry, { ...config.workerMetrics, token: config.metricsToken }) : null;
  if (metricsServer) logger.info({ port: metricsServer.port, host: config.workerMetrics.host }, `worker metrics on http://${config.workerMetrics.host}:${metricsServer.port}/metrics`);
  await queue.work(handlers, { concurrency: config.media.workerConcurrency });
  logger.info({ queue: queue.kind, concurrency: config.media.workerConcurrency }, "worker started");

  onShutdownSignal(logger, config.shutdownTimeoutS * 1000, async () => {
    // No new job from now on; the running ones get SHUTDOWN_TIMEOUT, then they are aborted and
    // put back in the queue without counting the attempt (another worker takes them).
    await queue.stopWorking(config.shutdownTimeoutS * 1000);
    await metricsServer?.close();
    await queue.close();
    await storage.close();
    await db?.destroy();
  });
}

main().catch((err: unknown) => {
  console.error("vidflux worker: failed to start:", err instanceof Error ? err.message : err);
  process.exit(1);
});
