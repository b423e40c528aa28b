/**
 * Starts the API (and, in the embedded default, the workers in the same process). Everything is
 * built elsewhere: config.ts reads the environment, context.ts picks adapters, app.ts builds the
 * Fastify app from the domains that composition.ts builds (they schedule their own periodic
 * tasks, e.g. the upload sweep), and composition.ts also lists the job handlers. `--api-only` (npm run start:api) runs no worker.
 */
import { loadConfigOrExit } from "./config.js";
import { createContext } from "./context.js";
import { buildApp } from "./app.js";
import { composeDomains, composeJobHandlers } from "./composition.js";
import { JobMetrics } from "./lib/metrics.js";

async function main(): Promise<void> {
  const config = loadConfigOrExit("vidflux");
  const apiOnly = process.argv.includes("--api-only") || !config.embeddedWorker;
  const ctx = await createContext(config);
  ctx.logger.info(
    { ffmpeg: ctx.media.ffmpeg, version: ctx.media.version, source: ctx.media.source, memoryLimitBytes: ctx.media.memoryLimit?.bytes ?? null },
    `using ffmpeg ${ctx.media.version} (${ctx.media.source})`,
  );
  const app = await buildApp(ctx, await composeDomains(ctx));
  if (!apiOnly) {
    // the embedded workers' job metrics join the API's registry (one `/metrics` for the process)
    const handlers = new JobMetrics(ctx.metrics.registry).instrument(composeJobHandlers({ config, storage: ctx.storage, media: ctx.media }));
    await ctx.queue.work(handlers, { concurrency: config.media.workerConcurrency });
    ctx.logger.info({ concurrency: config.media.workerConcurrency, queue: ctx.queue.kind }, "embedded worker started");
  }
  await app.listen({ port: config.port, host: config.host });
  ctx.logger.info(
    { db: config.db.kind, storage: config.storage.kind, queue: ctx.queue.kind, events: config.redisUrl ? "redis" : "memory" },
    `vidflux listening on http://localhost:${config.port}`,
  );

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    ctx.logger.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), config.shutdownGraceS * 1000 + 30_000);
    force.unref();
    try {
      // SIGTERM: running conversions get a grace period, then go back to the queue.
      await ctx.queue.stopWorking(config.shutdownGraceS * 1000);
      await app.close();
      await ctx.close();
      process.exit(0);
    } catch (err) {
      ctx.logger.error({ err }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  console.error("vidflux: failed to start:", err instanceof Error ? err.message : err);
  process.exit(1);
});
