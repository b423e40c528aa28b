/**
 * The tus 1.0 request headers, validated from one table: each rule quotes the spec's MUST line it
 * enforces, parses the raw value and names the status a bad value earns. Handlers ask for the
 * headers they need (`readTusHeaders(req.headers, [...])`) and get typed values back.
 * Spec: https://tus.io/protocols/resumable-upload (1.0.x).
 */
import type { IncomingHttpHeaders } from "node:http";
import { AppError, type InputProblem } from "../../lib/errors.js";

export const TUS_RESUMABLE = "1.0.0";
export const TUS_VERSIONS = ["1.0.0"] as const;
export const OFFSET_OCTET_STREAM = "application/offset+octet-stream";

/** Algorithms for the checksum extension, by tus name → Node's crypto name and digest size. */
export const CHECKSUM_ALGORITHMS = {
  sha1: { node: "sha1", bytes: 20 },
  md5: { node: "md5", bytes: 16 },
  sha256: { node: "sha256", bytes: 32 },
  sha512: { node: "sha512", bytes: 64 },
} as const;
export type ChecksumAlgorithm = keyof typeof CHECKSUM_ALGORITHMS;

export interface UploadChecksum {
  algorithm: ChecksumAlgorithm;
  digest: Buffer;
}

export type UploadConcat = { kind: "partial" } | { kind: "final"; urls: string[]; raw: string };

export interface UploadMetadata {
  /** the header exactly as received (HEAD echoes it) */
  raw: string;
  /** decoded values; a key without a value maps to "" */
  values: Record<string, string>;
}

/** What each header parses to. */
export interface TusHeaders {
  "tus-resumable": string;
  "upload-length": number;
  "upload-offset": number;
  "upload-defer-length": 1;
  "upload-metadata": UploadMetadata;
  "upload-checksum": UploadChecksum;
  "upload-concat": UploadConcat;
  "content-type": string;
}
export type TusHeaderName = keyof TusHeaders;

/** A protocol error: rendered in the API's error format, with tus response headers. */
export class TusError extends AppError {
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}, details: Record<string, unknown> | InputProblem[] | null = null) {
    super(status, code, message, details, headers);
    this.name = "TusError";
  }
}

interface HeaderRule<T> {
  /** undefined when the value is invalid */
  parse(raw: string): T | undefined;
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

const NON_NEGATIVE_INT = /^\d{1,16}$/;
function nonNegativeInt(raw: string): number | undefined {
  const v = raw.trim();
  if (!NON_NEGATIVE_INT.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Upload-Metadata: `key base64,key2 base64,key3`. */
export function parseUploadMetadata(raw: string): UploadMetadata | undefined {
  const values: Record<string, string> = Object.create(null) as Record<string, string>;
  if (raw.trim() === "") return undefined;
  for (const pair of raw.split(",")) {
    const parts = pair.trim().split(" ");
    if (parts.length > 2) return undefined;
    const [key, value] = parts as [string, string | undefined];
    // "The key MUST NOT contain spaces and commas and MUST NOT be empty. The key SHOULD be ASCII
    // encoded and the value MUST be Base64 encoded. All keys MUST be unique."
    if (key === "" || !/^[\x21-\x7e]+$/.test(key) || key in values) return undefined;
    if (value === undefined || value === "") {
      values[key] = "";
      continue;
    }
    if (!BASE64.test(value)) return undefined;
    try {
      values[key] = utf8.decode(Buffer.from(value, "base64"));
    } catch {
      return undefined;
    }
  }
  return { raw, values: { ...values } };
}

/** Upload-Metadata value for a response or a client request (the inverse of the parser). */
export function formatUploadMetadata(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => (v === "" ? k : `${k} ${Buffer.from(v, "utf8").toString("base64")}`))
    .join(",");
}

function parseChecksum(raw: string): UploadChecksum | undefined {
  // "The header MUST consist of the name of the used checksum algorithm and the Base64 encoded
  // checksum separated by a space."
  const m = /^([a-z0-9-]+) ([A-Za-z0-9+/=]+)$/.exec(raw.trim());
  if (!m || !BASE64.test(m[2]!)) return undefined;
  const algorithm = m[1]! as ChecksumAlgorithm;
  if (!Object.hasOwn(CHECKSUM_ALGORITHMS, algorithm)) return undefined;
  const digest = Buffer.from(m[2]!, "base64");
  if (digest.length !== CHECKSUM_ALGORITHMS[algorithm].bytes) return undefined;
  return { algorithm, digest };
}

function parseConcat(raw: string): UploadConcat | undefined {
  const v = raw.trim();
  // "If the upload is a partial one, the header value MUST be `partial`. In the case of a final
  // upload, its value MUST be `final` followed by a semicolon and a space-separated list of
  // partial upload URLs that will be concatenated."
  if (v === "partial") return { kind: "partial" };
  if (!v.startsWith("final;")) return undefined;
  const urls = v.slice("final;".length).trim().split(/ +/).filter(Boolean);
  if (urls.length === 0 || urls.length > 1000) return undefined;
  return { kind: "final", urls, raw: v };
}

const RULES: { [K in TusHeaderName]: HeaderRule<TusHeaders[K]> } = {
  // "The Tus-Resumable header MUST be included in every request and response except for OPTIONS
  // requests. [...] If the version specified by the Client is not supported by the Server, it
  // MUST respond with the 412 Precondition Failed status and MUST include the Tus-Version header
  // into the response. In addition, the Server MUST NOT process the request."
  "tus-resumable": {
    parse: (v) => ((TUS_VERSIONS as readonly string[]).includes(v.trim()) ? v.trim() : undefined),
    status: 412,
    code: "tus_version_unsupported",
    message: `This server speaks tus ${TUS_VERSIONS.join(", ")}; send Tus-Resumable: ${TUS_RESUMABLE}.`,
    headers: { "Tus-Version": TUS_VERSIONS.join(",") },
  },
  // "The Upload-Length request and response header indicates the size of the entire upload in
  // bytes. The value MUST be a non-negative integer."
  "upload-length": { parse: nonNegativeInt, status: 400, code: "invalid_upload_length", message: "Upload-Length must be a non-negative integer." },
  // "The Upload-Offset request and response header indicates a byte offset within a resource.
  // The value MUST be a non-negative integer."
  "upload-offset": { parse: nonNegativeInt, status: 400, code: "invalid_upload_offset", message: "Upload-Offset must be a non-negative integer." },
  // "Its value MUST be 1. If the length of an upload is not deferred, this header MUST be omitted."
  // (We do not offer creation-defer-length: a video's size is known before it is sent, and the
  // quota and size limits are enforced at creation.)
  "upload-defer-length": { parse: (v) => (v.trim() === "1" ? 1 : undefined), status: 400, code: "invalid_defer_length", message: "Upload-Defer-Length must be 1." },
  "upload-metadata": {
    parse: parseUploadMetadata,
    status: 400,
    code: "invalid_upload_metadata",
    message: "Upload-Metadata must be comma-separated 'key base64value' pairs with unique, non-empty ASCII keys and UTF-8 values.",
  },
  // "1) 400 Bad Request if the checksum algorithm is not supported by the server"
  "upload-checksum": {
    parse: parseChecksum,
    status: 400,
    code: "invalid_checksum",
    message: `Upload-Checksum must be '<algorithm> <base64 digest>' with algorithm one of ${Object.keys(CHECKSUM_ALGORITHMS).join(", ")}.`,
  },
  "upload-concat": { parse: parseConcat, status: 400, code: "invalid_upload_concat", message: "Upload-Concat must be 'partial' or 'final;<url> <url>...'." },
  // "All PATCH requests MUST use Content-Type: application/offset+octet-stream, otherwise the
  // server SHOULD return a 415 Unsupported Media Type status."
  "content-type": {
    parse: (v) => (v.split(";")[0]!.trim().toLowerCase() === OFFSET_OCTET_STREAM ? OFFSET_OCTET_STREAM : undefined),
    status: 415,
    code: "unsupported_media_type",
    message: `Upload data must be sent with Content-Type: ${OFFSET_OCTET_STREAM}.`,
  },
};

/** A refused tus header, with the one input-problem entry every input error carries. */
export function headerError(name: string, status: number, code: string, message: string, entryMessage = message, headers: Record<string, string> = {}): TusError {
  return new TusError(status, code, message, headers, [{ location: "headers", field: name, code, message: entryMessage }]);
}

export type ReadHeaders<K extends TusHeaderName> = { [P in K]: TusHeaders[P] | undefined };

/**
 * Parses the named headers; a present but invalid one throws its rule's error. `required` names
 * the headers whose absence is an error too (with the same status as an invalid value).
 */
export function readTusHeaders<K extends TusHeaderName>(headers: IncomingHttpHeaders, names: readonly K[], required: readonly K[] = []): ReadHeaders<K> {
  const out = {} as ReadHeaders<K>;
  for (const name of names) {
    const raw: string | string[] | undefined = headers[name];
    const value = typeof raw === "string" || raw === undefined ? raw : raw.join(",");
    const rule = RULES[name] as HeaderRule<TusHeaders[K]>;
    if (value === undefined) {
      if (required.includes(name)) throw headerError(name, rule.status, rule.code, rule.message, "is required", rule.headers);
      out[name] = undefined;
      continue;
    }
    const parsed = rule.parse(value);
    if (parsed === undefined) throw headerError(name, rule.status, rule.code, rule.message, rule.message, rule.headers);
    out[name] = parsed;
  }
  return out;
}
