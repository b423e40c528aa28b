/**
 * Request ids and where log lines go. Fastify binds `reqId` to `req.log`; the services log
 * through the process logger instead (they do not see the request), so the id of the request
 * being served rides in an AsyncLocalStorage that the process logger's `mixin` reads: a line a
 * service writes while handling a request carries that request's id too.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingMessage } from "node:http";
import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";

export const REQUEST_ID_HEADER = "x-request-id";

/**
 * What an incoming X-Request-Id may look like to be reused: UUIDs, hex and the ids proxies and
 * load balancers make (`Root=1-5f…`, base64), bounded, so a client cannot put a megabyte, a
 * newline or a terminal escape into every log line.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:=+/-]{1,128}$/;

/**
 * Fastify's `genReqId`: behind a trusted proxy (TRUST_PROXY) the proxy's X-Request-Id when it is
 * sane, so one id follows the request across the proxy's and our logs; otherwise, and for
 * anything odd, a new UUID. Without a trusted proxy the header is the client's to choose, and an
 * id a client picks (another request's) would make logs lie.
 */
export function requestIdGenerator(trustProxy: boolean): (req: IncomingMessage) => string {
  return (req) => {
    const given = req.headers[REQUEST_ID_HEADER];
    if (trustProxy && typeof given === "string" && SANE_REQUEST_ID.test(given)) return given;
    return crypto.randomUUID();
  };
}

/** The id of the request whose handling is under way here (see the file comment). */
export const requestContext = new AsyncLocalStorage<{ reqId: string }>();

/**
 * Where logs go: pino-pretty (colours, one readable line) for a person at a terminal in
 * development, else JSON lines for the collector. `undefined`: pino's stdout default.
 */
export function logDestination(opts: { nodeEnv: string }): DestinationStream | undefined {
  if (opts.nodeEnv === "production" || !process.stdout.isTTY) return undefined;
  return pretty({ colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" });
}

/** The process logger of the API, the workers and the CLI; `stream`: where lines go instead (tests read them). */
export function createLogger(opts: { level: string; nodeEnv: string; stream?: DestinationStream | undefined }): Logger {
  const options = {
    level: opts.level,
    mixin() {
      const store = requestContext.getStore();
      return store ? { reqId: store.reqId } : {};
    },
  };
  const dest = opts.stream ?? logDestination(opts);
  return dest ? pino(options, dest) : pino(options);
}
