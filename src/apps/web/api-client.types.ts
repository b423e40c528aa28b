/**
 * Types the web client's fetch helper (public/api.js) reads from the generated `paths`
 * (api.types.ts): for an operation (a path template and a method) its path parameters, query,
 * JSON body and JSON success answer. The page is plain JavaScript; `tsconfig.web.json`
 * type-checks its calls against these (`npm run typecheck`).
 */
import type { paths } from "./api.types.js";

export type ApiPath = keyof paths;
export type HttpMethod = "get" | "put" | "post" | "delete" | "patch";

type Operation<P extends ApiPath, M extends HttpMethod> = NonNullable<paths[P][M]>;

/** The methods a path has (openapi-typescript marks the others `?: never`). */
export type MethodOf<P extends ApiPath> = { [M in HttpMethod]: [Operation<P, M>] extends [never] ? never : M }[HttpMethod];

type Parameters<P extends ApiPath, M extends HttpMethod> = Operation<P, M> extends { parameters: infer X } ? X : never;
export type PathParams<P extends ApiPath, M extends HttpMethod> = Parameters<P, M> extends { path: infer X } ? X : never;
export type Query<P extends ApiPath, M extends HttpMethod> = Parameters<P, M> extends { query?: infer X } ? X : never;
export type JsonBody<P extends ApiPath, M extends HttpMethod> = Operation<P, M> extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;

type Responses<P extends ApiPath, M extends HttpMethod> = Operation<P, M> extends { responses: infer R } ? R : never;
type SuccessStatus = 200 | 201 | 202 | 204;
/** The JSON body of the operation's 2xx answers (null for 204). */
export type Ok<P extends ApiPath, M extends HttpMethod> = {
  [S in keyof Responses<P, M>]: S extends SuccessStatus ? (Responses<P, M>[S] extends { content: { "application/json": infer R } } ? R : null) : never;
}[keyof Responses<P, M>];

/** `params` is required when the path has parameters; `url` follows a link the API gave for this operation (`next`). */
export type Options<P extends ApiPath, M extends HttpMethod> = ([PathParams<P, M>] extends [never] ? { params?: never } : { params: PathParams<P, M> }) & {
  query?: Query<P, M>;
  body?: JsonBody<P, M>;
  headers?: Record<string, string>;
  url?: string;
};

export type ErrorBody = paths["/api/health/"]["get"]["responses"][503]["content"]["application/json"];
