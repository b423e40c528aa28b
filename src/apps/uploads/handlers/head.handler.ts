/**
 * HEAD: where to resume. "The Server MUST always include the Upload-Offset header in the response
 * for a HEAD request, even if the offset is 0, or the upload is already considered completed. If
 * the size of the upload is known, the Server MUST include the Upload-Length header in the
 * response." "The Server MUST prevent the client and/or proxies from caching the response by
 * adding the Cache-Control: no-store header to the response."
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { currentUser } from "../../users/index.js";
import type { UploadService } from "../upload.service.js";
import { readTusHeaders } from "../tus-headers.js";
import { setExpires, setVideoId } from "./tus-response.js";

export function headHandler(uploads: UploadService) {
  return async (req: FastifyRequest<{ Params: { uploadId: string } }>, reply: FastifyReply) => {
    reply.header("Cache-Control", "no-store");
    readTusHeaders(req.headers, ["tus-resumable"], ["tus-resumable"]);
    const row = await uploads.load(currentUser(req), req.params.uploadId);
    // "If the resource is not found, the Server SHOULD return either the 404 Not Found, 410 Gone
    // or 403 Forbidden status without the Upload-Offset header."
    uploads.assertLive(row);
    reply.header("Upload-Offset", String(row.offset)).header("Upload-Length", String(row.length));
    // "If an upload contains additional metadata, responses to HEAD requests MUST include the
    // Upload-Metadata header and its value as specified by the Client during the creation."
    if (row.metadata_header !== null) reply.header("Upload-Metadata", row.metadata_header);
    // "Response to HEAD request against partial or final upload MUST include the Upload-Concat
    // header and its value as received in the upload creation request."
    if (row.concat_header !== null) reply.header("Upload-Concat", row.concat_header);
    setExpires(reply, row);
    setVideoId(reply, row);
    return reply.status(200).send();
  };
}
