/** Schemas shared by every domain: the error body and common parameter shapes. */
import { Type, type Static, type TSchema, type TUnsafe } from "@sinclair/typebox";

const INPUT_LOCATIONS = ["body", "querystring", "params", "headers", "metadata", "message", "cookie"] as const;

/** Nullable helper: OpenAPI 3.0 has no type arrays; TypeBox unions render as anyOf. */
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** A string enum that keeps its literal type and renders as `{type: string, enum: [...]}` in OpenAPI. */
export const StringEnum = <const T extends readonly string[]>(values: T, opts: { description?: string; default?: T[number] } = {}) =>
  Type.Unsafe<T[number]>({ type: "string", enum: [...values], ...opts });

/** One entry of an input error's `details` (see `InputProblem` in errors.ts). */
export const InputProblemSchema = Type.Object(
  {
    location: StringEnum(INPUT_LOCATIONS, { description: "where the input was: Fastify's validation contexts, tus `metadata`, a control `message`'s fields, a `cookie`" }),
    field: Type.String({ description: "the field, dotted for nested ones (`chapters.2.title`), a header in lower case (`upload-length`)" }),
    code: Type.String({ description: "stable: `required`, `type`, `format`, `min_length`, `max_length`, `minimum`, `maximum`, `pattern`, `enum`, `unknown_field`, `min_items`, `max_items`, … or the error's own code" }),
    message: Type.String({ description: "for people" }),
  },
  { additionalProperties: true },
);

/** A limit that was reached: what is used, the limit, what was asked for, when to retry. */
export const LimitDetailsSchema = Type.Object(
  {
    limit: Type.Number(),
    used: Type.Optional(Type.Number()),
    requested: Type.Optional(Type.Number()),
    retry_after_s: Type.Optional(Type.Number({ description: "seconds, as the Retry-After header (which rounds up)" })),
  },
  { additionalProperties: true },
);

/**
 * The `details` forms, by code. Rendered into the document as ErrorResponse's description: a
 * client generated from it gets the union type, a person the table.
 */
const DETAILS_TABLE = [
  "| `details` | codes |",
  "|---|---|",
  "| `[{location, field, code, message}]` | `validation_error` (schema validation of the body, query, path and headers, upload metadata), and every code that blames one input: `invalid_cursor`, `file_required`, `invalid_language`, `invalid_username`, `invalid_email`, `wrong_password`, `password_*`, `username_taken`, `email_taken` (409), `refresh_required`, `reset_token_invalid`, `email_change_token_invalid`, `password_required`, `title_blank`, `invalid_poster_candidate`, `comment_empty`, `comment_too_long`, `invalid_text`, `invalid_parent`, `unknown_message`, `bad_message`, `cannot_hide_self`, `quality_unavailable`, `language_unavailable`, `position_out_of_range`, `speed_out_of_range`, the tus header codes (`invalid_upload_length`, `invalid_upload_offset`, `invalid_upload_metadata`, `invalid_checksum`, `invalid_upload_concat`, `missing_upload_length`, `defer_length_unsupported`, `partial_upload_incomplete`, `tus_version_unsupported` 412), and `unsupported_media_type` 415 (the `content-type` header) |",
  "| `{used, limit, requested}` | `quota_exceeded` (bytes; `requested` absent for a simple upload of unknown size) |",
  "| `{limit, requested}` | `too_large` (bytes; `requested` when the size is known) |",
  "| `{retry_after_s}` | `throttled`, `rate_limited` (fractional seconds), `subtitles_busy`, `upload_locked`; `too_many_uploads` adds `{used, limit}` when a count was reached |",
  "| `{queued, limit, retry_after_s}` | `conversion_queue_full` |",
  "| `{limit, cues}` | `too_many_cues` |",
  "| `{remaining}` | `upload_length_exceeded` (bytes the upload may still take) |",
  "| `{size}` | `range_not_satisfiable` (416, the file's size, also in `Content-Range: bytes */size`) |",
  "| `{offset}` | `offset_mismatch` (the upload's current offset, also in `Upload-Offset`) |",
  "| `{format, problems: [{line, message}]}` | `invalid_subtitles` |",
  "| `{width, height}` | `image_too_large` |",
  "| `{status}` | `not_converted` |",
  "| `{video_id}` | `upload_expired` and the refusal codes of a refused upload (`not_a_video`, `unsupported_container`, `empty_file`…) |",
  "| `{allow}` | `method_not_allowed` (405, also in `Allow`) |",
  "| `{origin}` | `cors_origin_denied` (403 to a CORS preflight from an origin not in CORS_ORIGINS) |",
  "| `{failing, checks}` | `not_ready` (503 from `/api/health/ready/`: the parts that do not answer, and every part's status) |",
  "| `null` | everything else: `not_found`, `*_not_found`, `not_authenticated`, `token_*`, `permission_denied`, `payload_too_large`, `invalid_json`, `invalid_utf8`, `invalid_preflight`, `unknown_method`, `upgrade_required`, `internal_error` (5xx never carry details)… |",
].join("\n");

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: "stable, snake_case: what a client switches on" }),
      message: Type.String({ description: "for people; may change" }),
      details: Type.Union([Type.Array(InputProblemSchema), Type.Null(), LimitDetailsSchema, Type.Object({}, { additionalProperties: true })], {
        description: "Depends on the code (table in ErrorResponse's description).",
      }),
    }),
  },
  {
    $id: "ErrorResponse",
    description: `Every error: a stable code, a human message, details that depend on the code.\n\n${DETAILS_TABLE}`,
    examples: [{ error: { code: "validation_error", message: "Invalid input.", details: [{ location: "body", field: "title", code: "max_length", message: "must NOT have more than 200 characters" }] } }],
  },
);
export type ErrorBody = Static<typeof ErrorResponse>;

/** What each error status means on any route; a route adds its own codes with `errors([404, "…"])`. */
export const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: "Invalid input: `validation_error` with `{location, field, code, message}` entries, or a code naming the problem",
  401: "Not signed in where an account is needed (`not_authenticated`), or the bearer token is invalid, expired or revoked (`token_*`)",
  403: "Signed in but not allowed (`permission_denied`, or a code naming the rule)",
  404: "No such resource, or not one the caller may see",
  405: "Method not allowed on this URL (`method_not_allowed`, `Allow` header)",
  409: "Conflicts with the resource's current state",
  410: "Gone",
  412: "A precondition failed",
  413: "Too large: the body (`payload_too_large`) or a limit (details say which)",
  415: "Unsupported media type",
  416: "Range not satisfiable (`Content-Range: bytes */size`)",
  422: "Well-formed but refused",
  426: "Upgrade required: a WebSocket URL asked without `Upgrade: websocket` (`upgrade_required`)",
  423: "Locked by another request; retry (`Retry-After`)",
  429: "Too many requests: retry after `Retry-After` (`details.retry_after_s`)",
  460: "Checksum mismatch (tus checksum extension): the chunk was discarded",
  503: "Temporarily unavailable; retry after `Retry-After`",
  507: "The server is out of storage; retry later",
};

/** The shared error body by reference (`#/components/schemas/ErrorResponse`), with this response's description. */
export const errorResponse = (description: string): TUnsafe<ErrorBody> => Type.Unsafe<ErrorBody>(Type.Ref("ErrorResponse", { description }));

/**
 * A route's refusals: `errors(400, 404, [409, "`not_ready`: the upload is not finished"])`. A bare
 * status gets the generic description; a pair says what it means on this route.
 */
export function errors<S extends number>(...items: (S | readonly [S, string])[]): Record<S, TUnsafe<ErrorBody>> {
  const out = {} as Record<S, TUnsafe<ErrorBody>>;
  for (const item of items) {
    const [status, text] = typeof item === "number" ? [item, ERROR_DESCRIPTIONS[item] ?? "Refused"] : item;
    out[status] = errorResponse(text);
  }
  return out;
}

export const IdParams = Type.Object({ id: Type.String({ format: "uuid" }) });

/** A documented empty answer (204, 304, a tus answer whose content is in its headers). */
export const NoContent = (description: string, headers?: Record<string, TSchema>) => Type.Null({ description, ...(headers ? { headers } : {}) });
