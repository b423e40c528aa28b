/**
 * One error family for the whole API. Every error that reaches a client has a stable `code`, an
 * HTTP status and a safe message; the single handler in `src/app.ts` renders
 * `{"error": {"code", "message", "details"}}` and hides anything 5xx.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | unknown[] | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown> | unknown[]) =>
  new AppError(400, code, message, details ?? null);
export const unauthorized = (code: string, message: string) =>
  new AppError(401, code, message, null, { "www-authenticate": 'Bearer realm="vidflux"' });
export const forbidden = (message = "You do not have permission to perform this action.", code = "permission_denied") =>
  new AppError(403, code, message);
export const notFound = (message = "Not found.", code = "not_found") => new AppError(404, code, message);
export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(409, code, message, details ?? null);
export const payloadTooLarge = (message: string, code = "payload_too_large", details?: Record<string, unknown>) =>
  new AppError(413, code, message, details ?? null);
export const unsupportedMediaType = (message: string, code = "unsupported_media_type") => new AppError(415, code, message);
export const unprocessable = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(422, code, message, details ?? null);

/**
 * Where an input came from, named as Fastify names its validation contexts (plus the tus
 * `Upload-Metadata` values, WebSocket/control `message` fields and cookies).
 */
export type InputLocation = "body" | "querystring" | "params" | "headers" | "metadata" | "message" | "cookie";

/**
 * One problem with one input. Every error that blames an input (schema validation, tus headers,
 * query and ordering parameters, upload metadata, a field a service refused) carries a list of
 * these as its `details`, so a client can put each message next to its field: `code` is stable
 * (`required`, `max_length`, `enum`, … or the error's own code), `message` is for people.
 */
export interface InputProblem {
  location: InputLocation;
  field: string;
  code: string;
  message: string;
}

/** 400 `validation_error` listing the problems. */
export const validationError = (problems: InputProblem[], message = "Invalid input.") => new AppError(400, "validation_error", message, problems);

/**
 * An error about one input whose entry repeats the error's code: `fieldError("invalid_cursor",
 * "The cursor is not valid.", "querystring", "cursor")`. `status` defaults to 400; 409s that blame
 * a field (`username_taken`) use it too.
 */
export function fieldError(
  code: string,
  message: string,
  location: InputLocation,
  field: string,
  opts: { status?: number; entryMessage?: string; headers?: Record<string, string> } = {},
): AppError {
  return new AppError(opts.status ?? 400, code, message, [{ location, field, code, message: opts.entryMessage ?? message }], opts.headers ?? {});
}

/** What Ajv reports for one failed keyword (the part of its `ErrorObject` we read). */
export interface SchemaViolation {
  keyword: string;
  instancePath?: string;
  schemaPath?: string;
  params?: Record<string, unknown>;
  message?: string;
}

/** Ajv keywords as stable snake_case codes; anything else becomes `invalid`. */
const KEYWORD_CODES: Record<string, string> = {
  required: "required",
  type: "type",
  format: "format",
  minLength: "min_length",
  maxLength: "max_length",
  minimum: "minimum",
  maximum: "maximum",
  exclusiveMinimum: "minimum",
  exclusiveMaximum: "maximum",
  multipleOf: "multiple_of",
  pattern: "pattern",
  enum: "enum",
  const: "enum",
  minItems: "min_items",
  maxItems: "max_items",
  uniqueItems: "unique_items",
  minProperties: "min_properties",
  maxProperties: "max_properties",
  additionalProperties: "unknown_field",
};

const dotted = (pointer: string): string => pointer.replace(/^\//, "").replace(/\//g, ".");

/**
 * Schema violations as input problems. A failed union (`anyOf`, as TypeBox renders unions,
 * literals lists and nullables) is reported once for its field: Ajv reports every branch, then
 * the union, which would list `must be string`, `must be null` and `must match a schema in anyOf`
 * for one wrong value. All-literal branches become one `enum` with the allowed values.
 */
export function schemaProblems(violations: readonly SchemaViolation[], location: InputLocation): InputProblem[] {
  const unions = violations.filter((v) => v.keyword === "anyOf" || v.keyword === "oneOf");
  const inUnion = (v: SchemaViolation, u: SchemaViolation) =>
    v !== u && (v.instancePath ?? "") === (u.instancePath ?? "") && (v.schemaPath ?? "").startsWith(`${u.schemaPath ?? ""}/`);
  const out: InputProblem[] = [];
  for (const v of violations) {
    if (unions.some((u) => inUnion(v, u))) continue;
    const path = v.instancePath ?? "";
    let field = dotted(path);
    let code = KEYWORD_CODES[v.keyword] ?? "invalid";
    let message = v.message ?? "is invalid";
    if (v.keyword === "required" && typeof v.params?.missingProperty === "string") {
      field = dotted(`${path}/${v.params.missingProperty}`);
      message = "is required";
    } else if (v.keyword === "additionalProperties" && typeof v.params?.additionalProperty === "string") {
      field = dotted(`${path}/${v.params.additionalProperty}`);
      message = "is not an accepted field";
    } else if (v.keyword === "anyOf" || v.keyword === "oneOf") {
      const branches = violations.filter((b) => inUnion(b, v));
      if (branches.length > 0 && branches.every((b) => b.keyword === "const")) {
        code = "enum";
        message = `must be one of ${branches.map((b) => String(b.params?.allowedValue)).join(", ")}`;
      } else if (branches.length > 0 && branches.every((b) => b.keyword === "type")) {
        code = "type";
        message = `must be ${[...new Set(branches.map((b) => String(b.params?.type)))].join(" or ")}`;
      }
    } else if (v.keyword === "enum" && Array.isArray(v.params?.allowedValues)) {
      message = `must be one of ${v.params.allowedValues.map(String).join(", ")}`;
    }
    out.push({ location, field: field || location, code, message });
  }
  return out;
}
