/** Every domain's routes, registered in one place so a newcomer sees the whole API surface. */
import type { App } from "./lib/app.types.js";
import type { AppContext } from "./context.js";
import { createVideosModule, registerVideoRoutes } from "./apps/videos/videos.module.js";
import { videoEventsRoutes } from "./apps/videos/video-events.routes.js";
import { registerStreamingRoutes } from "./apps/streaming/streaming.module.js";
import { registerUsersDomain } from "./apps/users/users.module.js";
import { uploadRoutes } from "./apps/uploads/upload.routes.js";
import { webRoutes } from "./apps/web/web.routes.js";

export async function registerAppRoutes(app: App, ctx: AppContext): Promise<void> {
  await registerUsersDomain(app, ctx);
  const videos = createVideosModule(ctx);
  // The users domain asks the videos domain for quota use and to remove a deleted account's videos.
  ctx.userHooks.provideQuotaUsed((userId) => videos.videos.quotaUsed(userId));
  ctx.userHooks.registerAccountCleanup({ removeUserContent: (userId) => videos.videos.removeAllOf(userId) });
  // The API process applies the conversion workers' messages to the videos it serves.
  videos.results.start();
  app.addHook("onClose", async () => videos.results.stop());
  await registerVideoRoutes(app, videos);
  await uploadRoutes(app, { ctx, videos });
  await videoEventsRoutes(app, { db: ctx.db, tokens: ctx.tokens, events: ctx.events });
  await registerStreamingRoutes(app, ctx);
  await webRoutes(app);
}
