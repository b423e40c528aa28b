/**
 * The tus endpoint's OpenAPI documentation: request headers (documented, checked by
 * tus-headers.ts), response headers and every refusal of each verb.
 */
import { Type } from "@sinclair/typebox";
import { NoContent, errors } from "../../lib/schemas.js";
import { documentedOnly } from "../../lib/openapi.js";
import { VideoDetailSchema } from "../videos/index.js";

export const idParams = { type: "object", properties: { uploadId: { type: "string", maxLength: 64 } }, required: ["uploadId"] } as const;

const h = (description: string) => Type.String({ description });
const TUS_RESUMABLE_HEADER = h("`1.0.0`; other versions get 412 with `Tus-Version`");

/**
 * The tus request headers, for the document only: tus-headers.ts checks them, each with the
 * status the protocol asks for (412 for Tus-Resumable, 415 for a PATCH's Content-Type, 400 else),
 * entries `{location: "headers", field: "upload-length", …}`.
 */
const CreationHeaders = Type.Object({
  "Tus-Resumable": Type.Optional(h("`1.0.0` (tus creation; not for the multipart upload)")),
  "Upload-Length": Type.Optional(h("the file's size in bytes (at most MAX_UPLOAD_SIZE, Tus-Max-Size); not on a final concatenation")),
  "Upload-Metadata": Type.Optional(
    h("comma-separated `key base64value`: filename, filetype (ignored: the bytes are sniffed), title, description, visibility (public|unlisted|private), language"),
  ),
  "Upload-Concat": Type.Optional(h("`partial`, or `final;<url> <url>…` to concatenate finished partial uploads")),
  "Upload-Checksum": Type.Optional(h("with creation-with-upload: `<sha1|md5|sha256|sha512> <base64 digest>` of the body")),
  "Content-Type": Type.Optional(h("`application/offset+octet-stream` with data (creation-with-upload), or `multipart/form-data` (simple upload)")),
});
const PatchHeaders = Type.Object({
  "Tus-Resumable": TUS_RESUMABLE_HEADER,
  "Upload-Offset": h("the upload's current offset (HEAD says it); another gets 409 `offset_mismatch`"),
  "Content-Type": h("`application/offset+octet-stream`; another gets 415"),
  "Upload-Checksum": Type.Optional(h("`<algorithm> <base64 digest>` of this chunk; a mismatch gets 460 and the chunk is discarded")),
});
const TusHeaders = Type.Object({ "Tus-Resumable": TUS_RESUMABLE_HEADER });
const OverrideHeaders = Type.Object({ "Tus-Resumable": TUS_RESUMABLE_HEADER, "X-HTTP-Method-Override": h("`PATCH`, `DELETE` or `HEAD`") });

const RESUMABLE = { "Tus-Resumable": h("`1.0.0`") };
const EXPIRES = { "Upload-Expires": h("RFC 9110 date after which an unfinished upload is swept (UPLOAD_EXPIRY after its last PATCH)") };
const VIDEO_ID = { "Video-Id": h("the video this upload creates (its live events: `/api/videos/{id}/events/`)") };
const OCTETS = { content: { "application/offset+octet-stream": { schema: { type: "string", format: "binary" } } } };

/** What the tus verbs answer when they refuse. */
const tusErrors = errors(
  [400, "A tus header is invalid (`invalid_upload_length`, `invalid_upload_offset`, `invalid_upload_metadata`, `invalid_checksum`, `invalid_upload_concat`, …; entries name the header), or metadata fields are (`validation_error`, location `metadata`)"],
  [403, "The caller may not upload (`permission_denied`), or a final upload cannot change (`final_upload_immutable`)"],
  [404, "No such upload of the caller's (`upload_not_found`)"],
  [409, "Upload-Offset is not the upload's offset (`offset_mismatch`, `{offset}`, `Upload-Offset`)"],
  [410, "The upload expired (`upload_expired`, `{video_id}`)"],
  [412, "Tus-Resumable missing or unsupported (`tus_version_unsupported`, `Tus-Version`)"],
  [413, "More bytes than Upload-Length (`upload_length_exceeded`, `{remaining}`; the chunk is discarded)"],
  [415, "Not `application/offset+octet-stream` (`unsupported_media_type`), or the first bytes are not an accepted video (`not_a_video`, `unsupported_container`, `empty_file`, `{video_id}`; the upload is terminated)"],
  [423, "Another request is writing to this upload (`upload_locked`, `{retry_after_s}`, `Retry-After`)"],
  [460, "The chunk does not match its Upload-Checksum (`checksum_mismatch`; discarded, the offset unchanged)"],
  [507, "The server is out of space (`insufficient_storage`, `Retry-After`)"],
);

export const discovery = (summary: string, params?: typeof idParams) => ({
  tags: ["uploads"],
  summary,
  description:
    "A plain OPTIONS (no Origin) answers the tus capabilities; a CORS preflight from an origin in CORS_ORIGINS answers 204 with the " +
    "Access-Control-* headers (tus headers are allowed and exposed), one from another origin 403 `cors_origin_denied`.",
  ...(params ? { params } : {}),
  security: [{}],
  response: {
    204: NoContent("The tus capabilities (or a CORS preflight's answer)", {
      "Tus-Version": h("`1.0.0`"),
      "Tus-Extension": h("`creation,creation-with-upload,termination,expiration,checksum,concatenation`"),
      "Tus-Max-Size": h("MAX_UPLOAD_SIZE in bytes"),
      "Tus-Checksum-Algorithm": h("`sha1,md5,sha256,sha512`"),
    }),
    ...errors([403, "A CORS preflight from an origin not in CORS_ORIGINS (`cors_origin_denied`, `{origin}`)"]),
  },
});

const idSchema = (summary: string, description: string, ok: Record<number, unknown>) => ({
  tags: ["uploads"],
  summary,
  description,
  params: idParams,
  security: [{ bearer: [] }],
  response: { ...ok, ...tusErrors },
});

const offsetHeaders = { "Upload-Offset": h("bytes received so far"), ...EXPIRES, ...VIDEO_ID, ...RESUMABLE };

/** Creation: its headers and bodies (tus bytes, or the multipart form), for the document only. */
export const CREATION_DOC = documentedOnly({
    headers: CreationHeaders,
    body: {
      content: {
        ...OCTETS.content,
        "multipart/form-data": {
          schema: {
            properties: {
              file: { type: "string", format: "binary", description: "the video (at most SIMPLE_UPLOAD_MAX)" },
              title: { type: "string" },
              description: { type: "string" },
              visibility: { type: "string", enum: ["public", "unlisted", "private"] },
              language: { type: "string" },
            },
            required: ["file"],
          },
        },
      },
    },
});

export const CREATION_SCHEMA = {
  tags: ["uploads"],
  summary: "Create a tus upload, or upload a small file in one multipart/form-data request",
  description:
    "tus 1.0 creation (Upload-Length, Upload-Metadata: filename, filetype, title, description, visibility, language; " +
    "Upload-Concat for parallel uploads; a body of type application/offset+octet-stream for creation-with-upload) → 201 with Location and Video-Id. " +
    "Or multipart/form-data with a `file` field and the same metadata fields → 201 with the video. Creation checks the " +
    "limits before any byte is sent: MAX_UPLOAD_SIZE, the storage quota, MAX_CONCURRENT_UPLOADS, MAX_QUEUED_CONVERSIONS.",
  security: [{ bearer: [] }],
  response: {
    201: {
      ...VideoDetailSchema,
      description:
        "tus: created, no body; the upload's URL in `Location` (with data: its new `Upload-Offset`). Multipart: the video (status `validating`)",
      headers: {
        Location: h("the upload's URL (tus)"),
        "Upload-Offset": h("after creation-with-upload, or 0 for an empty file"),
        ...EXPIRES,
        ...VIDEO_ID,
        ...RESUMABLE,
      },
    },
    ...tusErrors,
    ...errors(
      [403, "The caller may not upload (`permission_denied`)"],
      [404, "A partial upload named in Upload-Concat is not the caller's"],
      [413, "Larger than MAX_UPLOAD_SIZE or SIMPLE_UPLOAD_MAX (`too_large`, `{limit, requested}`), over the storage quota (`quota_exceeded`, `{used, limit, requested}`), or more bytes than Upload-Length (`upload_length_exceeded`)"],
      [429, "MAX_CONCURRENT_UPLOADS unfinished uploads (`too_many_uploads`), or MAX_QUEUED_CONVERSIONS conversions in flight (`conversion_queue_full`, `{queued, limit, retry_after_s}`); `Retry-After`"],
    ),
  },
};

// an explicit HEAD route (not GET's automatic twin), so in the document
export const HEAD_DOC = { ...documentedOnly({ headers: TusHeaders }), swagger: { exposeHeadRoute: true } };
export const HEAD_SCHEMA = idSchema("Upload offset (tus HEAD)", "Where to resume. `Cache-Control: no-store`.", {
  200: NoContent("The upload's state, in headers", {
    ...offsetHeaders,
    "Upload-Length": h("the declared size"),
    "Upload-Metadata": h("as sent at creation"),
    "Upload-Concat": h("`partial`, or the `final;…` value sent at creation"),
  }),
});

export const PATCH_DOC = documentedOnly({ headers: PatchHeaders, body: OCTETS });
export const PATCH_SCHEMA = idSchema(
  "Append bytes (tus PATCH, application/offset+octet-stream)",
  "The bytes at `Upload-Offset`. After the last byte the video goes to `validating` (the answer does not wait for it).",
  { 204: NoContent("Stored; the new offset in `Upload-Offset`", offsetHeaders) },
);

export const DELETE_DOC = documentedOnly({ headers: TusHeaders });
export const DELETE_SCHEMA = idSchema("Terminate an upload (tus termination)", "Deletes the bytes and the upload's video.", { 204: NoContent("Terminated", RESUMABLE) });

export const OVERRIDE_DOC = documentedOnly({ headers: OverrideHeaders, body: OCTETS });
export const OVERRIDE_SCHEMA = idSchema(
  "X-HTTP-Method-Override: PATCH | DELETE | HEAD",
  "For clients that cannot send PATCH or DELETE: answers as the overriding method would; without a known override 405.",
  {
    200: NoContent("As HEAD", offsetHeaders),
    204: NoContent("As PATCH or DELETE", offsetHeaders),
    ...errors([405, "No `X-HTTP-Method-Override` of PATCH, DELETE or HEAD (`method_not_allowed`, `{allow}`)"]),
  },
);
