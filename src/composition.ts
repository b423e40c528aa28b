/**
 * The composition root: the one place that builds every domain, once, from the platform context
 * (context.ts), and says what runs in which kind of process: the API server and the tests'
 * harness call `composeDomains`; worker processes (and the embedded worker) `composeJobHandlers`;
 * the admin CLI `composeAdmin`, which needs the database only. Nothing is looked up later: each domain is handed, at construction, the
 * services of the others it uses, through their public faces (`apps/<domain>/index.ts`).
 *
 * Build order follows the dependency tree: users (tokens, hooks) → videos → streaming, uploads
 * and reactions → playback (live control: needs users' tokens, videos and streaming's playback tokens). The videos domain never imports streaming: it gets playback tokens as a function and
 * announces changed videos through `onVideoChanged`, which the streaming domain subscribes to.
 */
import type { Config } from "./config.js";
import type { Db } from "./platform/db/db.js";
import type { AppContext } from "./context.js";
import type { App } from "./lib/app.types.js";
import type { MediaTools } from "./platform/media/media-tools.js";
import type { JobHandlers } from "./platform/queue/queue.js";
import type { Storage } from "./platform/storage/storage.js";
import { createTranscodeHandler } from "./services/transcoder/index.js";
import { createPlaybackModule, registerPlaybackRoutes, type PlaybackModule } from "./apps/playback/index.js";
import { createReactionsModule, registerReactionsRoutes, type ReactionsModule } from "./apps/reactions/index.js";
import { createStreamingModule, registerStreamingRoutes, type StreamingModule } from "./apps/streaming/index.js";
import { createUploadsModule, registerUploadsRoutes, type UploadsModule } from "./apps/uploads/index.js";
import { createAccountStore, createUsersModule, registerUsersRoutes, type AccountStore, type UsersModule } from "./apps/users/index.js";
import { createVideosModule, registerVideosRoutes, type VideosModule } from "./apps/videos/index.js";
import { webRoutes } from "./apps/web/index.js";

export interface Domains {
  users: UsersModule;
  videos: VideosModule;
  streaming: StreamingModule;
  uploads: UploadsModule;
  reactions: ReactionsModule;
  playback: PlaybackModule;
}

export async function composeDomains(ctx: AppContext): Promise<Domains> {
  const { config, logger, db, storage, events, liveEvents, hub, queue, redis, media, mailer, metrics } = ctx;
  const users = await createUsersModule({ config, logger, db, storage, mailer, hub });
  // Forward references: the detail asks for a playback token and the viewer's reaction only at
  // request time, after the streaming and reactions modules below exist (both depend on videos).
  let streaming: StreamingModule | null = null;
  let reactions: ReactionsModule | null = null;
  const videos = createVideosModule({
    config,
    logger,
    db,
    events,
    storage,
    queue,
    metrics,
    playbackTokens: { issue: (videoId, epoch) => streaming!.playback.issue(videoId, epoch) },
    reactions: { myReaction: (videoId, userId) => reactions!.reactions.myReaction(videoId, userId) },
  });
  streaming = createStreamingModule({ config, logger, db, redis, storage, tokens: users.tokens, videos });
  const uploads = createUploadsModule({ config, logger, db, redis, storage, media, videos: videos.videos, metrics });
  reactions = createReactionsModule({
    config,
    logger,
    db,
    redis,
    liveEvents,
    videos: { repo: videos.repo, remove: (id) => videos.videos.remove(id) },
  });

  // The users domain asks the others for quota use and to remove a deleted account's content.
  users.hooks.provideQuotaUsed((userId) => videos.videos.quotaUsed(userId));
  users.hooks.registerAccountCleanup({ removeUserContent: (userId) => videos.videos.removeAllOf(userId) });
  // Deleting an account removes its unfinished uploads and their bytes at once.
  users.hooks.registerAccountCleanup(uploads.sweeper);
  // Before the account's row (and with it its reactions and likes) cascades away, the counters
  // those fed go down; its comments stay, authorless (ON DELETE SET NULL).
  users.hooks.registerAccountCleanup(reactions.reactions);
  const playback = createPlaybackModule({
    config,
    logger,
    db,
    hub,
    liveEvents,
    tokens: users.tokens,
    revocations: users.sessions,
    playbackTokens: streaming.playback,
    videos: { repo: videos.repo, queries: videos.queries, onVideoChanged: (l) => videos.onVideoChanged(l) },
  });
  return { users, videos, streaming, uploads, reactions, playback };
}

/**
 * What the admin commands (createsuperuser) use: the accounts table and the hasher, from the
 * database and Config alone. No storage, queue, Redis or JWT keys are opened for a command that
 * only writes one row.
 */
export function composeAdmin(deps: { db: Db; config: Config }): { accounts: AccountStore } {
  return { accounts: createAccountStore(deps) };
}

/**
 * Stops the domains' background work where no app does it (the CLI, scripts): an app closes
 * them itself through the hooks `registerDomainRoutes` adds.
 */
export async function closeDomains(d: Domains): Promise<void> {
  await d.users.close();
  await d.videos.close();
  await d.uploads.close();
  await d.streaming.close();
  await d.playback.close();
}

/**
 * Every domain's routes and lifecycle, registered in one place so a newcomer sees the whole API
 * surface. Background work (result applier, view flusher, upload sweep) stops when the app closes,
 * before the context does.
 */
export async function registerDomainRoutes(app: App, ctx: AppContext, d: Domains): Promise<void> {
  const { config, db, storage } = ctx;
  // Ended sessions close their WebSocket/SSE connections here as on every other API process.
  await d.users.start();
  app.addHook("onClose", async () => d.users.close());
  await registerUsersRoutes(app, d.users, config);
  // The API process applies the conversion workers' messages to the videos it serves.
  d.videos.start();
  app.addHook("onClose", async () => d.videos.close());
  await registerVideosRoutes(app, d.videos, { db, tokens: d.users.tokens, sessions: d.users.sessions });
  await registerUploadsRoutes(app, d.uploads, { config, videos: d.videos });
  await registerStreamingRoutes(app, d.streaming, { storage, videos: d.videos });
  await registerReactionsRoutes(app, d.reactions);
  d.playback.start();
  app.addHook("onClose", async () => d.playback.close());
  await registerPlaybackRoutes(app, d.playback, config);
  app.addHook("onClose", async () => d.streaming.close());
  await webRoutes(app, { embedFrameAncestors: config.embedFrameAncestors });
}

/**
 * The job handlers of this code base: one per job name, checked by the compiler (`JobHandlers`
 * is a Record over every JobName) and again by the queue adapters at start-up. Workers need only
 * storage, ffmpeg and the queue: never the database.
 */
export function composeJobHandlers(deps: { config: Config; storage: Storage; media: MediaTools }): JobHandlers {
  return {
    "video.transcode": createTranscodeHandler({ storage: deps.storage, tools: deps.media, workDir: deps.config.media.tmpDir }),
  };
}
