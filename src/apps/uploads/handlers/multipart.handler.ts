/**
 * The simple upload: one `multipart/form-data` POST (`file` plus title, description, visibility,
 * language) for small files, ≤ SIMPLE_UPLOAD_MAX. The file part streams to a staging file through
 * the same byte path as tus (limit, sniffing), never into memory; then the same validation runs
 * and the answer is 201 with the video (status `validating`). Fields are read before and after
 * the file part. No live progress: there is no video until the body is in (use tus for that).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Multipart } from "@fastify/multipart";
import { validationError } from "../../../lib/errors.js";
import { currentUser, type AuthUser, type Role } from "../../users/index.js";
import type { VideoDetail } from "../../videos/index.js";
import type { StagedFile } from "../simple-upload.service.js";
import type { UploadService } from "../upload.service.js";
import { displayFilename, METADATA_KEYS, videoFields } from "../upload-metadata.js";
import { TusError } from "../tus-headers.js";
import { contentLengthOf } from "./patch.handler.js";
import { closeIfUnread } from "./tus-response.js";

export type MultipartDetail = (id: string, user: AuthUser, role: Role) => Promise<VideoDetail>;

export interface SimpleUploadDeps {
  uploads: UploadService;
  maxBytes: number;
  detail: MultipartDetail;
}

/** The form's metadata fields and the staged file part (fields may come before and after it). */
interface ReadForm {
  values: Record<string, string>;
  staged: (StagedFile & { filename: string }) | null;
}

export function multipartHandler(d: SimpleUploadDeps) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const user = currentUser(req);
    await d.uploads.checkSimpleAllowed(user, contentLengthOf(req));
    const form: ReadForm = { values: {}, staged: null };
    try {
      await readParts(req, d, form);
      const staged = form.staged;
      if (!staged) throw validationError([{ location: "body", field: "file", code: "required", message: "is required" }]);
      if (staged.size === 0) throw new TusError(415, "empty_file", "The file is empty.");
      const fields = videoFields({ ...form.values, filename: form.values.filename ?? staged.filename }, "body");
      const video = await d.uploads.createSimple(user, fields, staged);
      form.staged = null; // owned by the upload record now
      return reply.status(201).header("Video-Id", video.id).send(await d.detail(video.id, user, req.role));
    } catch (err) {
      closeIfUnread(req, reply);
      throw err;
    } finally {
      if (form.staged) await d.uploads.discardSimple(form.staged);
    }
  };
}

/** Reads the parts into `form`, streaming the one `file` part into the byte store. */
async function readParts(req: FastifyRequest, d: SimpleUploadDeps, form: ReadForm): Promise<void> {
  const parts = req.parts({
    // One byte over our own limit, so our byte meter (not busboy's silent truncation) sees it.
    limits: { fileSize: d.maxBytes + 1, files: 1, fields: 20, fieldSize: 32 * 1024, parts: 25 },
  });
  for await (const part of parts as AsyncIterableIterator<Multipart>) {
    if (part.type === "field") {
      if ((METADATA_KEYS as readonly string[]).includes(part.fieldname) && typeof part.value === "string") form.values[part.fieldname] = part.value;
      continue;
    }
    if (part.fieldname !== "file" || form.staged) {
      part.file.resume();
      throw validationError([{ location: "body", field: part.fieldname, code: "unexpected_file", message: "only one file, in the field `file`" }]);
    }
    const filename = displayFilename(part.filename);
    form.staged = { ...(await d.uploads.stageSimple(part.file, d.maxBytes)), filename };
  }
}
