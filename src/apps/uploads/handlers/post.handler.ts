/**
 * POST: creation, creation-with-upload and concatenation. "The Server MUST acknowledge a
 * successful upload creation with the 201 Created status. The Server MUST set the Location
 * header to the URL of the created resource." The Video row is created here (status
 * `uploading`); its id travels in the `Video-Id` header.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { currentUser } from "../../users/index.js";
import type { UploadService } from "../upload.service.js";
import { headerError, readTusHeaders } from "../tus-headers.js";
import { contentLengthOf } from "./patch.handler.js";
import { closeIfUnread, setExpires, uploadUrl } from "./tus-response.js";

function hasBody(req: FastifyRequest): boolean {
  const len = contentLengthOf(req);
  return (len !== null && len > 0) || (len === null && req.headers["transfer-encoding"] !== undefined);
}

export function postHandler(uploads: UploadService) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const h = readTusHeaders(
      req.headers,
      ["tus-resumable", "upload-length", "upload-defer-length", "upload-metadata", "upload-concat", "upload-checksum"],
      ["tus-resumable"],
    );
    const withBody = hasBody(req);
    // creation-with-upload: "The Client MUST include the Content-Type: application/offset+octet-stream header."
    if (withBody) readTusHeaders(req.headers, ["content-type"], ["content-type"]);
    if (withBody && h["upload-concat"]?.kind === "final") throw headerError("upload-concat", 400, "invalid_upload_concat", "A final upload cannot carry data.");
    const user = currentUser(req);
    const { row, video } = await uploads.create(user, {
      length: h["upload-length"],
      deferLength: h["upload-defer-length"] !== undefined,
      metadata: h["upload-metadata"],
      concat: h["upload-concat"],
    });
    reply.header("Location", uploadUrl(row.id));
    if (video) reply.header("Video-Id", video.id);
    let current = row;
    if (withBody) {
      try {
        // "The Server SHOULD accept as many bytes as possible and MUST include the Upload-Offset
        // header in the response and MUST set its value to the offset of the upload after
        // applying the accepted bytes."
        current = (
          await uploads.append(user, row.id, 0, {
            stream: req.raw,
            contentLength: contentLengthOf(req),
            checksum: h["upload-checksum"],
          })
        ).row;
      } catch (err) {
        closeIfUnread(req, reply);
        throw err;
      }
      reply.header("Upload-Offset", String(current.offset));
    } else if (row.state === "completed" && row.concat_parts === null) {
      // An empty file ("Upload-Length: 0 [...] is immediately complete after its creation").
      reply.header("Upload-Offset", String(row.offset));
    }
    // "If the expiration is known at the creation, the Upload-Expires header MUST be included in
    // the response to the initial POST request."
    setExpires(reply, current);
    return reply.status(201).send();
  };
}
