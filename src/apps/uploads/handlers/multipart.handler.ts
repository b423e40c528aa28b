/**
 * The simple upload: one `multipart/form-data` POST (`file` plus title, description, visibility,
 * language) for small files, ≤ SIMPLE_UPLOAD_MAX. The file part streams to a staging file through
 * the same byte path as tus (limit, sniffing), never into memory; then the same validation runs
 * and the answer is 201 with the video (status `validating`). Fields are read before and after
 * the file part. No live progress: there is no video until the body is in (use tus for that).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Multipart } from "@fastify/multipart";
import { badRequest, payloadTooLarge } from "../../../lib/errors.js";
import { newId } from "../../../lib/ids.js";
import { currentUser } from "../../users/auth.plugin.js";
import type { VideoDetail } from "../../videos/video.schemas.js";
import type { Role } from "../../users/permissions.js";
import type { AuthUser } from "../../users/auth.plugin.js";
import { UploadRefusedError, type UploadService } from "../upload.service.js";
import { TooMuchDataError } from "../upload.store.js";
import { displayFilename, METADATA_KEYS, videoFields } from "../upload.metadata.js";
import { TusError } from "../tus.headers.js";
import { contentLengthOf } from "./patch.handler.js";
import { closeIfUnread } from "./tus.response.js";

const REFUSAL_STATUS: Record<string, number> = { not_a_video: 415, unsupported_container: 415, empty_file: 415 };

export interface SimpleUploadDeps {
  uploads: UploadService;
  maxBytes: number;
  detail(id: string, user: AuthUser, role: Role): Promise<VideoDetail>;
}

export function multipartHandler(d: SimpleUploadDeps) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const user = currentUser(req);
    await d.uploads.checkSimpleAllowed(user, contentLengthOf(req));
    const values: Record<string, string> = {};
    let staged: { id: string; size: number; filename: string } | null = null;
    const store = d.uploads.store;
    try {
      const parts = req.parts({
        // One byte over our own limit, so our byte meter (not busboy's silent truncation) sees it.
        limits: { fileSize: d.maxBytes + 1, files: 1, fields: 20, fieldSize: 32 * 1024, parts: 25 },
      });
      for await (const part of parts as AsyncIterableIterator<Multipart>) {
        if (part.type === "field") {
          if ((METADATA_KEYS as readonly string[]).includes(part.fieldname) && typeof part.value === "string") values[part.fieldname] = part.value;
          continue;
        }
        if (part.fieldname !== "file" || staged) {
          part.file.resume();
          throw badRequest("validation_error", "Invalid input.", [{ field: part.fieldname, location: "body", message: "only one file, in the field `file`" }]);
        }
        const id = newId();
        await store.create(id);
        staged = { id, size: 0, filename: displayFilename(part.filename) };
        try {
          const { written, interrupted } = await store.append(id, part.file, { offset: 0, limit: d.maxBytes, inspect: d.uploads.sniffer() });
          if (interrupted) throw badRequest("upload_interrupted", "The upload ended before the whole file was received.");
          staged.size = written;
        } catch (err) {
          part.file.destroy();
          if (err instanceof TooMuchDataError) {
            throw payloadTooLarge(`Simple uploads are limited to ${d.maxBytes} bytes; use the resumable (tus) upload for larger files.`, "too_large", { max_bytes: d.maxBytes });
          }
          if (err instanceof UploadRefusedError) throw new TusError(REFUSAL_STATUS[err.code] ?? 415, err.code, err.message);
          throw err;
        }
      }
      if (!staged) throw badRequest("validation_error", "Invalid input.", [{ field: "file", location: "body", message: "is required" }]);
      if (staged.size === 0) throw new TusError(415, "empty_file", "The file is empty.");
      const fields = videoFields({ ...values, filename: values.filename ?? staged.filename }, "body");
      const video = await d.uploads.createSimple(user, fields, staged.id, staged.size);
      staged = null; // owned by the upload record now
      return reply.status(201).header("Video-Id", video.id).send(await d.detail(video.id, user, req.role));
    } catch (err) {
      closeIfUnread(req, reply);
      throw err;
    } finally {
      if (staged) await store.remove(staged.id);
    }
  };
}
