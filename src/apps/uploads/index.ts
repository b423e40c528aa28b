/**
 * The uploads domain's public face: other domains and the composition root import this file only.
 * tus 1.0 and multipart uploads, the first-bytes sniff, probe validation, quotas and locks, and
 * the hand-over of a validated file to the videos domain (which queues its conversion).
 */
export { createUploadsModule, registerUploadsRoutes, type UploadsDeps, type UploadsModule } from "./uploads.module.js";
export type { UploadService } from "./upload.service.js";
