/**
 * OPTIONS: protocol discovery. "A successful response indicated by the 204 No Content or 200 OK
 * status MUST contain the Tus-Version header. It MAY include the Tus-Extension and Tus-Max-Size
 * headers." (CORS preflights never get here: @fastify/cors answers them.)
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../../../config.js";
import { discoveryHeaders } from "./tus-response.js";

export function optionsHandler(config: Config) {
  return async (_req: FastifyRequest, reply: FastifyReply) => {
    // "The Client SHOULD NOT include the Tus-Resumable header in the request and the Server MUST ignore the header."
    return reply.status(204).headers(discoveryHeaders(config)).send();
  };
}
