/**
 * `/api/videos/upload/` — the tus 1.0 endpoint (OPTIONS, POST, HEAD, PATCH, DELETE on
 * `/api/videos/upload/{uploadId}/`) and, on the same URL, the simple multipart POST. Registered
 * in their own encapsulated scope: the raw `application/offset+octet-stream` body parser, the
 * multipart parser and the `Tus-Resumable` response header apply to these routes only.
 */
import multipart from "@fastify/multipart";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { App } from "../../lib/app.types.js";
import type { Config } from "../../config.js";
import { deleteHandler } from "./handlers/delete.handler.js";
import { headHandler } from "./handlers/head.handler.js";
import { multipartHandler, type MultipartDetail } from "./handlers/multipart.handler.js";
import { optionsHandler } from "./handlers/options.handler.js";
import { patchHandler } from "./handlers/patch.handler.js";
import { postHandler } from "./handlers/post.handler.js";
import { UPLOAD_PATH } from "./handlers/tus-response.js";
import { OFFSET_OCTET_STREAM, TUS_RESUMABLE } from "./tus-headers.js";
import type { UploadService } from "./upload.service.js";
import {
  CREATION_DOC,
  CREATION_SCHEMA,
  DELETE_DOC,
  DELETE_SCHEMA,
  HEAD_DOC,
  HEAD_SCHEMA,
  OVERRIDE_DOC,
  OVERRIDE_SCHEMA,
  PATCH_DOC,
  PATCH_SCHEMA,
  discovery,
  idParams,
} from "./upload.schemas.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** per-route @fastify/cors options, merged over the global ones by its onRequest hook */
    cors?: { strictPreflight?: boolean; preflightContinue?: boolean } | false;
  }
}

type IdRequest = FastifyRequest<{ Params: { uploadId: string } }>;

// longBody: a PATCH (or a creation-with-upload, or the simple upload) may take hours; its body is
// bounded by idle time (HTTP_UPLOAD_IDLE_TIMEOUT), not by HTTP_BODY_TIMEOUT.
const UPLOAD = { auth: { right: "video:upload" as const }, rateLimit: false as const, longBody: true };
// tus discovery is a plain OPTIONS request (no Origin / Access-Control-Request-Method), which
// @fastify/cors would refuse as an invalid preflight: let it add its headers and continue here.
const DISCOVERY = { cors: { strictPreflight: false, preflightContinue: true } };

export interface UploadRoutesOptions {
  uploads: UploadService;
  config: Config;
  /** the video detail answered by the simple multipart POST (the videos domain's) */
  detail: MultipartDetail;
}

export async function uploadRoutes(app: App, opts: UploadRoutesOptions): Promise<void> {
  const { uploads, config } = opts;
  await app.register(async (scope) => {
    // tus bodies are streamed by the handlers, never parsed (and never subject to bodyLimit).
    scope.addContentTypeParser(OFFSET_OCTET_STREAM, (_req, _payload, done) => done(null));
    if (!scope.hasRequestDecorator("isMultipart")) await scope.register(multipart);
    // "The Tus-Resumable header MUST be included in every request and response except for OPTIONS requests."
    scope.addHook("onSend", async (req, reply, payload) => {
      if (req.method !== "OPTIONS") reply.header("Tus-Resumable", TUS_RESUMABLE);
      return payload;
    });

    const options = optionsHandler(config);
    const post = postHandler(uploads);
    const head = headHandler(uploads);
    const patch = patchHandler(uploads);
    const del = deleteHandler(uploads);
    const simple = multipartHandler({
      uploads,
      maxBytes: Math.min(config.upload.simpleMax, config.upload.maxSize),
      detail: opts.detail,
    });

    scope.options(UPLOAD_PATH, { config: DISCOVERY, schema: discovery("tus discovery (Tus-Version, Tus-Extension, Tus-Max-Size)") }, options);
    scope.post(
      UPLOAD_PATH,
      {
        config: { ...UPLOAD, ...CREATION_DOC },
        schema: CREATION_SCHEMA,
      },
      async (req: FastifyRequest, reply: FastifyReply) => (req.isMultipart() ? simple(req, reply) : post(req, reply)),
    );
    const idPath = `${UPLOAD_PATH}:uploadId`;
    scope.options(idPath, { config: DISCOVERY, schema: discovery("tus discovery", idParams) }, options);
    scope.head(idPath, { config: { ...UPLOAD, ...HEAD_DOC }, schema: HEAD_SCHEMA }, head);
    scope.patch(idPath, { config: { ...UPLOAD, ...PATCH_DOC }, schema: PATCH_SCHEMA }, patch);
    scope.delete(idPath, { config: { ...UPLOAD, ...DELETE_DOC }, schema: DELETE_SCHEMA }, del);
    // "The X-HTTP-Method-Override request header MUST be a string which MUST be interpreted as the
    // request's method by the Server, if the header is presented. The actual method of the request
    // MUST be ignored." (for clients that cannot send PATCH or DELETE)
    scope.post(
      idPath,
      { config: { ...UPLOAD, ...OVERRIDE_DOC }, schema: OVERRIDE_SCHEMA },
      async (req: IdRequest, reply: FastifyReply) => {
      const override = String(req.headers["x-http-method-override"] ?? "").toUpperCase();
      if (override === "PATCH") return patch(req, reply);
      if (override === "DELETE") return del(req, reply);
      if (override === "HEAD") return head(req, reply);
      return reply
        .status(405)
        .header("allow", "HEAD, PATCH, DELETE, OPTIONS")
        .send({ error: { code: "method_not_allowed", message: 'Method "POST" not allowed.', details: { allow: ["HEAD", "PATCH", "DELETE", "OPTIONS"] } } });
      },
    );
  });
}
