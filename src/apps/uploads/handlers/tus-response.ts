/** Response headers shared by the tus handlers. */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../../../config.js";
import type { UploadRow } from "../upload.repository.js";
import { CHECKSUM_ALGORITHMS, TUS_VERSIONS } from "../tus-headers.js";

export const UPLOAD_PATH = "/api/videos/upload/";

/** Extensions we implement; concatenation-unfinished and creation-defer-length are not among them. */
export const TUS_EXTENSIONS = ["creation", "creation-with-upload", "termination", "expiration", "checksum", "concatenation"] as const;

export function discoveryHeaders(config: Config): Record<string, string> {
  return {
    "Tus-Version": TUS_VERSIONS.join(","),
    "Tus-Extension": TUS_EXTENSIONS.join(","),
    "Tus-Max-Size": String(config.upload.maxSize),
    // "The Tus-Checksum-Algorithm header MUST be included in the response to an OPTIONS request."
    "Tus-Checksum-Algorithm": Object.keys(CHECKSUM_ALGORITHMS).join(","),
  };
}

/**
 * The upload's URL, relative: the request's Host header is the client's to write, and echoing it
 * into `Location` let a forged Host send the next PATCH (with its bearer token) elsewhere.
 * RFC 9110 §10.2.2 allows a relative reference, resolved against the request URL, and tus
 * clients do exactly that (tus-js-client resolves it against its endpoint).
 */
export function uploadUrl(id: string): string {
  return `${UPLOAD_PATH}${id}/`;
}

/** Upload-Expires is an HTTP date: "MUST be in RFC 9110 datetime format". */
export function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}

/** Upload-Expires only while the upload can still expire (it is unfinished). */
export function setExpires(reply: FastifyReply, row: UploadRow): void {
  if (row.state === "uploading") reply.header("Upload-Expires", httpDate(row.expires_at));
}

export function setVideoId(reply: FastifyReply, row: UploadRow): void {
  if (row.video_id) reply.header("Video-Id", row.video_id);
}

/**
 * When we answer before reading the whole body (refused, too large), close the connection
 * instead of letting Node read and discard what may be gigabytes.
 */
export function closeIfUnread(req: FastifyRequest, reply: FastifyReply): void {
  if (!req.raw.complete) reply.header("Connection", "close");
}
