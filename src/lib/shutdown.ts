/**
 * Graceful shutdown of the entry points (server.ts, worker.ts). An orchestrator or a deploy
 * sends SIGTERM and, some time later, SIGKILL (Kubernetes: 30 s); a developer presses Ctrl-C
 * (SIGINT). What is in flight then gets SHUTDOWN_TIMEOUT to finish; past it, requests are cut
 * and jobs are aborted and handed back to the queue, so the hand-back itself still fits before
 * the SIGKILL. A second signal means "now": the process exits at once (a job it held is taken
 * again by another worker when its lease lapses, as after a crash).
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { terminateWebSockets } from "./drain.plugin.js";
import { settlesWithin } from "./promises.js";

/**
 * Past the bound, how long the hand-back (aborting ffmpeg, putting jobs back, closing the
 * connections) may take before the process exits anyway, with code 1.
 */
export const HANDBACK_MARGIN_MS = 10_000;

/**
 * Runs `stop` on the first SIGTERM/SIGINT and exits 0 when it resolves (1 when it throws, or when
 * it is still running `timeoutMs + HANDBACK_MARGIN_MS` later); a second signal exits 1 at once.
 */
export function onShutdownSignal(logger: Logger, timeoutMs: number, stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, timeoutMs }, "shutting down");
    const force = setTimeout(() => {
      logger.error({ timeoutMs: timeoutMs + HANDBACK_MARGIN_MS }, "shutdown did not finish in time: exiting");
      process.exit(1);
    }, timeoutMs + HANDBACK_MARGIN_MS);
    force.unref();
    stop(signal).then(
      () => {
        logger.info({ signal }, "shut down");
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
}

/**
 * `app.close()` with a bound: it stops accepting, ends the long-lived responses and sends the
 * WebSocket close frames at once (drain.plugin.ts), then waits for the requests in flight; those
 * still running after `timeoutMs`, and sockets that never answered their close frame, are cut.
 */
export async function closeAppWithin(app: FastifyInstance, timeoutMs: number, logger: Logger): Promise<void> {
  const closing = app.close();
  if (await settlesWithin(closing, timeoutMs)) return closing;
  const sockets = terminateWebSockets(app);
  logger.warn({ timeoutMs, websockets: sockets }, "requests still running at SHUTDOWN_TIMEOUT: cutting their connections");
  app.server.closeAllConnections();
  return closing;
}
