/**
 * PATCH: append bytes. "The Server SHOULD accept PATCH requests against any upload URL and apply
 * the bytes contained in the message at the given offset specified by the Upload-Offset header."
 * "The Server MUST acknowledge successful PATCH requests with the 204 No Content status. It MUST
 * include the Upload-Offset header containing the new offset."
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { currentUser } from "../../users/index.js";
import type { UploadService } from "../upload.service.js";
import { headerError, readTusHeaders } from "../tus-headers.js";
import { closeIfUnread, setExpires, setVideoId } from "./tus-response.js";

export function contentLengthOf(req: FastifyRequest): number | null {
  const v = req.headers["content-length"];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

export function patchHandler(uploads: UploadService) {
  return async (req: FastifyRequest<{ Params: { uploadId: string } }>, reply: FastifyReply) => {
    const h = readTusHeaders(
      req.headers,
      ["tus-resumable", "content-type", "upload-offset", "upload-checksum", "upload-length"],
      // "The Upload-Offset header's value MUST be equal to the current offset of the resource"
      // (so it must be there), and PATCH bodies MUST be application/offset+octet-stream.
      ["tus-resumable", "content-type", "upload-offset"],
    );
    const user = currentUser(req);
    const row0 = await uploads.load(user, req.params.uploadId);
    // Without creation-defer-length the length is fixed at creation: "Once set the length MUST NOT be changed."
    if (h["upload-length"] !== undefined && h["upload-length"] !== row0.length) {
      throw headerError("upload-length", 400, "invalid_upload_length", "Upload-Length cannot be changed after creation.");
    }
    try {
      const { row } = await uploads.append(user, row0.id, h["upload-offset"]!, {
        stream: req.raw,
        contentLength: contentLengthOf(req),
        checksum: h["upload-checksum"],
      });
      setExpires(reply, row);
      setVideoId(reply, row);
      return reply.status(204).header("Upload-Offset", String(row.offset)).send();
    } catch (err) {
      closeIfUnread(req, reply);
      setVideoId(reply, row0);
      throw err;
    }
  };
}
