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
import { ErrorResponse } from "../../lib/schemas.js";
import { VideoDetailSchema } from "../videos/index.js";
import { deleteHandler } from "./handlers/delete.handler.js";
import { headHandler } from "./handlers/head.handler.js";
import { multipartHandler, type MultipartDetail } from "./handlers/multipart.handler.js";
import { optionsHandler } from "./handlers/options.handler.js";
import { patchHandler } from "./handlers/patch.handler.js";
import { postHandler } from "./handlers/post.handler.js";
import { UPLOAD_PATH } from "./handlers/tus-response.js";
import { OFFSET_OCTET_STREAM, TUS_RESUMABLE } from "./tus-headers.js";
import type { UploadService } from "./upload.service.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** per-route @fastify/cors options, merged over the global ones by its onRequest hook */
    cors?: { strictPreflight?: boolean; preflightContinue?: boolean } | false;
  }
}

type IdRequest = FastifyRequest<{ Params: { uploadId: string } }>;

const UPLOAD = { auth: { right: "video:upload" as const }, rateLimit: false as const };
// tus discovery is a plain OPTIONS request (no Origin / Access-Control-Request-Method), which
// @fastify/cors would refuse as an invalid preflight: let it add its headers and continue here.
const DISCOVERY = { cors: { strictPreflight: false, preflightContinue: true } };
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 410: ErrorResponse, 413: ErrorResponse, 415: ErrorResponse, 429: ErrorResponse };
const idParams = { type: "object", properties: { uploadId: { type: "string", maxLength: 64 } }, required: ["uploadId"] } as const;

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

    scope.options(UPLOAD_PATH, { config: DISCOVERY, schema: { tags: ["uploads"], summary: "tus discovery (Tus-Version, Tus-Extension, Tus-Max-Size)" } }, options);
    scope.post(
      UPLOAD_PATH,
      {
        config: UPLOAD,
        schema: {
          tags: ["uploads"],
          summary: "Create a tus upload, or upload a small file in one multipart/form-data request",
          description:
            "tus 1.0 creation (Upload-Length, Upload-Metadata: filename, filetype, title, description, visibility, language; " +
            "Upload-Concat for parallel uploads; a body of type application/offset+octet-stream for creation-with-upload) → 201 with Location and Video-Id. " +
            "Or multipart/form-data with a `file` field and the same metadata fields → 201 with the video.",
          security: [{ bearer: [] }],
          response: { 201: VideoDetailSchema, ...errors, 460: ErrorResponse },
        },
      },
      async (req: FastifyRequest, reply: FastifyReply) => (req.isMultipart() ? simple(req, reply) : post(req, reply)),
    );
    const idPath = `${UPLOAD_PATH}:uploadId`;
    const idSchema = (summary: string) => ({ tags: ["uploads"], summary, params: idParams, security: [{ bearer: [] }], response: { ...errors, 460: ErrorResponse } });
    scope.options(idPath, { config: DISCOVERY, schema: { tags: ["uploads"], summary: "tus discovery", params: idParams } }, options);
    scope.head(idPath, { config: UPLOAD, schema: idSchema("Upload offset (tus HEAD)") }, head);
    scope.patch(idPath, { config: UPLOAD, schema: idSchema("Append bytes (tus PATCH, application/offset+octet-stream)") }, patch);
    scope.delete(idPath, { config: UPLOAD, schema: idSchema("Terminate an upload (tus termination)") }, del);
    // "The X-HTTP-Method-Override request header MUST be a string which MUST be interpreted as the
    // request's method by the Server, if the header is presented. The actual method of the request
    // MUST be ignored." (for clients that cannot send PATCH or DELETE)
    scope.post(idPath, { config: UPLOAD, schema: { ...idSchema("X-HTTP-Method-Override: PATCH | DELETE | HEAD"), hide: true } }, async (req: IdRequest, reply: FastifyReply) => {
      const override = String(req.headers["x-http-method-override"] ?? "").toUpperCase();
      if (override === "PATCH") return patch(req, reply);
      if (override === "DELETE") return del(req, reply);
      if (override === "HEAD") return head(req, reply);
      return reply
        .status(405)
        .header("allow", "HEAD, PATCH, DELETE, OPTIONS")
        .send({ error: { code: "method_not_allowed", message: 'Method "POST" not allowed.', details: { allow: ["HEAD", "PATCH", "DELETE", "OPTIONS"] } } });
    });
  });
}
