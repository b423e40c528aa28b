/** Schemas shared by every domain: the error body and common parameter shapes. */
import { Type } from "@sinclair/typebox";

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Unknown(),
    }),
  },
  {
    $id: "ErrorResponse",
    description: "Every error: a stable code, a human message, optional details.",
    examples: [{ error: { code: "video_not_found", message: "Video not found.", details: null } }],
  },
);

export const IdParams = Type.Object({ id: Type.String({ format: "uuid" }) });

/** Nullable helper: OpenAPI 3.0 has no type arrays; TypeBox unions render as anyOf. */
export const Nullable = <T extends import("@sinclair/typebox").TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** A string enum that keeps its literal type and renders as `{type: string, enum: [...]}` in OpenAPI. */
export const StringEnum = <const T extends readonly string[]>(values: T, opts: { description?: string; default?: T[number] } = {}) =>
  Type.Unsafe<T[number]>({ type: "string", enum: [...values], ...opts });
