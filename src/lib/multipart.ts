import type { FastifyRequest } from "fastify";
import { fieldError } from "./errors.js";

/** The multipart field `file` as bytes; 400 when absent, 413 past the plugin's size limit. */
export async function readFilePart(req: FastifyRequest): Promise<Buffer> {
  const file = await req.file();
  if (!file || file.fieldname !== "file") {
    file?.file.resume();
    throw fieldError("file_required", "Send the file as the multipart field `file`.", "body", "file");
  }
  return file.toBuffer();
}
