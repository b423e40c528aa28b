/**
 * Offload to nginx (`MEDIA_OFFLOAD=nginx`, disk storage only): once the streaming service has
 * checked access exactly as it does without offload, a media GET is answered with an empty body
 * and `X-Accel-Redirect: <MEDIA_OFFLOAD_PREFIX><storage key>`; nginx then serves the file from
 * its `internal` location (deploy/nginx.conf) with sendfile. Node copies every byte it sends
 * through userland (1 MiB ranges at 0.5–0.7× nginx, 47 KiB segments at 0.16×); here it sends
 * ~300 bytes of headers instead.
 *
 * What nginx keeps from this answer on the internal redirect is only Content-Type,
 * Cache-Control, Expires, Content-Disposition, Accept-Ranges and Set-Cookie (and what the internal
 * location adds from `$upstream_http_*`, e.g. CORS); it computes ETag and Last-Modified from the
 * file itself and answers Range, If-Range, If-None-Match and If-Modified-Since with them, so no
 * validator and no range logic is sent from here.
 */
import type { FastifyReply } from "fastify";
import type { ObjectSender } from "./object-sender.js";

/** The header nginx acts on; hidden from the client by nginx (proxy_hide_header's default). */
export const OFFLOAD_HEADER = "x-accel-redirect";

export interface OffloadOptions {
  contentType: string;
  cacheControl: string;
}

export class MediaOffload {
  constructor(
    /** MEDIA_OFFLOAD_PREFIX: `/internal-media/` (validated by config.ts: starts and ends with `/`) */
    private readonly prefix: string,
    private readonly sender: ObjectSender,
  ) {}

  /** The internal URI of a key: nginx percent-decodes it, so each segment is encoded. */
  uri(key: string): string {
    return this.prefix + key.split("/").map(encodeURIComponent).join("/");
  }

  /**
   * Answers with the redirect to `key`; false (nothing sent) when the object does not exist, so
   * the caller answers its own 404 in our error format rather than nginx's HTML one.
   */
  async send(reply: FastifyReply, key: string, opts: OffloadOptions): Promise<boolean> {
    if (!(await this.sender.exists(key))) return false;
    // Not awaited: a reply's `then` waits for the socket to finish, and rejects if the client left.
    void reply
      .status(200)
      .header("content-type", opts.contentType)
      .header("cache-control", opts.cacheControl)
      .header(OFFLOAD_HEADER, this.uri(key))
      // If the operator turns on proxy_cache for /api/, this answer (an access decision, for
      // a token that may expire or be revoked, on a video that may turn private) must never be
      // reused: 0 disables caching it. Not a client header (nginx drops X-Accel-*).
      .header("x-accel-expires", "0")
      .send();
    return true;
  }
}
