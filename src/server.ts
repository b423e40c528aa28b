/**
 * Starts the API (and, in the embedded default, the workers in the same process). Everything is
 * built elsewhere: config.ts reads the environment, context.ts picks adapters, app.ts builds the
 * Fastify app from the domains that composition.ts builds (they schedule their own periodic
 * tasks, e.g. the upload sweep), and composition.ts also lists the job handlers. `--api-only` (npm run start:api) runs no worker.
 */
import { loadConfigOrExit } from "./config.js";
import { createContext, type AppContext } from "./context.js";
import { buildApp, type App } from "./app.js";
import { composeDomains, composeJobHandlers } from "./composition.js";
import { JobMetrics } from "./lib/metrics.js";
import { closeAppWithin, onShutdownSignal } from "./lib/shutdown.js";

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

  onShutdownSignal(ctx.logger, config.shutdownTimeoutS * 1000, () => stopServer(app, ctx));
}

/**
 * SIGTERM: the HTTP side and the embedded workers drain side by side within SHUTDOWN_TIMEOUT
 * (readiness 503, no new connections, long-lived responses ended, requests in flight finished or
 * cut; running jobs finished or handed back to the queue), then the connections close (queue,
 * event buses, Redis, database). A job finishing after the videos domain stopped listening is
 * applied by the reconcile loop of whichever API runs next, as any missed result is.
 */
async function stopServer(app: App, ctx: AppContext): Promise<void> {
  const timeoutMs = ctx.config.shutdownTimeoutS * 1000;
  await Promise.all([closeAppWithin(app, timeoutMs, ctx.logger), ctx.queue.stopWorking(timeoutMs)]);
  await ctx.close();
}

main().catch((err: unknown) => {
  console.error("vidflux: failed to start:", err instanceof Error ? err.message : err);
  process.exit(1);
});
