/**
 * The job handlers of this code base: one per job name, checked by the compiler
 * (`JobHandlers` is a Record over every JobName) and again by the queue adapters at start-up.
 * Workers need only storage, ffmpeg and the queue: never the database.
 */
import type { Config } from "./config.js";
import type { MediaTools } from "./platform/media/media.tools.js";
import type { JobHandlers } from "./platform/queue/queue.js";
import type { Storage } from "./platform/storage/storage.js";
import { createTranscodeHandler } from "./services/transcoder/transcode.handler.js";

export function createJobHandlers(deps: { config: Config; storage: Storage; tools: MediaTools }): JobHandlers {
  return {
    "video.transcode": createTranscodeHandler({ storage: deps.storage, tools: deps.tools, workDir: deps.config.media.tmpDir }),
  };
}
