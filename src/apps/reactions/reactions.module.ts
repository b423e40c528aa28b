/**
 * The reactions domain (likes, dislikes, comments, moderation, the viewers' live channel), built
 * once by the composition root. It depends on the videos domain (which videos exist and who may
 * see them) and the users domain (rights, avatars); neither of them imports it: the videos
 * detail's `my_reaction` comes through a function the composition root binds.
 */
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import type { App } from "../../lib/app.types.js";
import { badRequest } from "../../lib/errors.js";
import type { Db } from "../../platform/db/db.js";
import type { EventBus } from "../../platform/events/events.js";
import type { VideoRepository } from "../videos/index.js";
import { CommentRepository } from "./comment.repository.js";
import { CommentService } from "./comment.service.js";
import { commentRoutes } from "./comments.routes.js";
import { LiveEventsService } from "./live-events.service.js";
import { liveRoutes } from "./live.routes.js";
import { moderationRoutes } from "./moderation.routes.js";
import { ModerationRepository } from "./moderation.repository.js";
import { ModerationService } from "./moderation.service.js";
import { PostLimiter } from "./post-limiter.js";
import { ReactionRepository } from "./reaction.repository.js";
import { ReactionService } from "./reaction.service.js";
import { reactionRoutes } from "./reactions.routes.js";
import { VideoGate } from "./video-gate.js";

export interface ReactionsDeps {
  config: Config;
  logger: Logger;
  db: Db;
  /** per-user posting limits are counted here when REDIS_URL is set */
  redis: Redis | null;
  /** the viewers' live channel (AppContext.liveEvents), not the owner's event bus */
  liveEvents: EventBus;
  videos: {
    repo: Pick<VideoRepository, "find">;
    /** deletes a video and its files (moderation's "remove the content") */
    remove(videoId: string): Promise<void>;
  };
}

export interface ReactionsModule {
  reactions: ReactionService;
  comments: CommentService;
  moderation: ModerationService;
  live: LiveEventsService;
  gate: VideoGate;
  reactionRepo: ReactionRepository;
  commentRepo: CommentRepository;
}

export function createReactionsModule(deps: ReactionsDeps): ReactionsModule {
  const reactionRepo = new ReactionRepository(deps.db);
  const commentRepo = new CommentRepository(deps.db);
  const gate = new VideoGate(deps.videos.repo, commentRepo);
  const live = new LiveEventsService(deps.liveEvents, deps.logger);
  const rl = deps.config.rateLimit;
  const limiter = new PostLimiter(
    { enabled: rl.enabled, redis: deps.redis, prefix: `${deps.config.redisPrefix}:post-rl` },
    { comment: { max: rl.commentsPerMinute, windowMs: 60_000 }, reaction: { max: rl.reactionsPerMinute, windowMs: 60_000 } },
  );
  const reactions = new ReactionService(reactionRepo, gate, limiter, live);
  const comments = new CommentService(commentRepo, gate, limiter, live);
  const moderation = new ModerationService({
    repo: new ModerationRepository(deps.db),
    comments: commentRepo,
    commentService: comments,
    gate,
    removeVideo: (id) => deps.videos.remove(id),
  });
  return { reactions, comments, moderation, live, gate, reactionRepo, commentRepo };
}

export interface ReactionsRoutesOptions {
  /** test seams: SSE heartbeat and retry of the live channel, ms */
  liveHeartbeatMs?: number;
  liveRetryMs?: number;
}

/** The domain's routes, in one scope whose JSON parser refuses invalid UTF-8 (see below). */
export async function registerReactionsRoutes(app: App, mod: ReactionsModule, opts: ReactionsRoutesOptions = {}): Promise<void> {
  await app.register(async (scope: App) => {
    strictUtf8Json(scope);
    await reactionRoutes(scope, { reactions: mod.reactions });
    await commentRoutes(scope, { comments: mod.comments });
    await moderationRoutes(scope, { moderation: mod.moderation });
    await liveRoutes(scope, { live: mod.live, gate: mod.gate, counts: mod.reactionRepo, heartbeatMs: opts.liveHeartbeatMs, retryMs: opts.liveRetryMs });
  });
}

/**
 * Fastify decodes JSON bodies leniently: invalid UTF-8 becomes U+FFFD and would be stored as if
 * the author had typed it. Here the bytes are decoded with `fatal: true` first (400
 * `invalid_utf8`), then handed to Fastify's own parser (prototype-poisoning checks, empty body).
 */
function strictUtf8Json(scope: App): void {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const parse = scope.getDefaultJsonParser("error", "error");
  scope.removeContentTypeParser("application/json");
  scope.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    let text: string;
    try {
      text = decoder.decode(body as Buffer);
    } catch {
      done(badRequest("invalid_utf8", "The request body is not valid UTF-8."), undefined);
      return;
    }
    void parse(req, text, done);
  });
}
