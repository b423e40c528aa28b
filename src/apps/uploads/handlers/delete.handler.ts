/**
 * DELETE (termination): "When receiving a DELETE request for an existing upload the Server SHOULD
 * free associated resources and MUST respond with the 204 No Content status confirming that the
 * upload was terminated. For all future requests to this URL, the Server SHOULD respond with the
 * 404 Not Found or 410 Gone status."
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { currentUser } from "../../users/index.js";
import type { UploadService } from "../upload.service.js";
import { readTusHeaders } from "../tus-headers.js";

export function deleteHandler(uploads: UploadService) {
  return async (req: FastifyRequest<{ Params: { uploadId: string } }>, reply: FastifyReply) => {
    readTusHeaders(req.headers, ["tus-resumable"], ["tus-resumable"]);
    await uploads.terminate(currentUser(req), req.params.uploadId);
    return reply.status(204).send();
  };
}
