/**
 * Custom posters: `PUT /api/videos/{id}/poster/`. The upload is sniffed and checked by the shared
 * image helper (src/lib/image.ts, as avatars are), then re-encoded by sharp to a progressive JPEG
 * of at most 1280 px on its longer side, so what we store and serve is an image we produced.
 * Stored with what people uploaded, apart from the conversion's outputs: `videos/<id>/uploads/poster.jpg`
 * (a reprocess leaves it alone), served as `thumbs/custom-poster.jpg`; `custom_poster_key` makes the
 * detail prefer it over the generated poster and candidates (a later `PATCH {poster_candidate}`
 * switches back). Videos from before `uploads/` have it at `thumbs/custom-poster.jpg`: replaced
 * here, it moves.
 */
import { inspectUploadedImage, reencodeImage } from "../../lib/image.js";
import type { Storage } from "../../platform/storage/storage.js";
import type { Role, AuthUser } from "../users/index.js";
import type { VideoRepository } from "./video.repository.js";
import type { VideoService } from "./video.service.js";
import { CUSTOM_POSTER_REL, objectContentType, UPLOADED_POSTER_REL, videoKeys } from "../../contracts/media-layout.js";

/** Upload limit (multipart file size). */
export const POSTER_MAX_BYTES = 5 * 1024 * 1024;
/** Decompression-bomb guard, as for avatars. */
export const POSTER_MAX_PIXELS = 40_000_000;
/** Longer side of the stored poster (the generated ones are at most 1280 px too). */
export const POSTER_MAX_SIDE = 1280;

export const customPosterKey = (videoId: string) => videoKeys.uploadedPoster(videoId);
/** where videos from before `uploads/` keep it */
export const legacyCustomPosterKey = (videoId: string) => `${videoKeys.prefix(videoId)}${CUSTOM_POSTER_REL}`;

/**
 * The stored poster of an uploaded image: EXIF orientation applied, fitted inside
 * POSTER_MAX_SIDE x POSTER_MAX_SIDE (never enlarged), transparency flattened onto black (JPEG has
 * no alpha; black matches the player's letterbox), metadata not copied (sharp's default).
 */
export async function renderPoster(input: Buffer): Promise<Buffer> {
  const image = await inspectUploadedImage(input, { maxPixels: POSTER_MAX_PIXELS });
  return reencodeImage(() =>
    image
      .open()
      .rotate()
      .resize({ width: POSTER_MAX_SIDE, height: POSTER_MAX_SIDE, fit: "inside", withoutEnlargement: true })
      .flatten({ background: "#000000" })
      .jpeg({ quality: 85, progressive: true })
      .toBuffer(),
  );
}

export interface PosterDeps {
  repo: VideoRepository;
  videos: VideoService;
  storage: Storage;
}

export class PosterService {
  constructor(private readonly d: PosterDeps) {}

  /**
   * Sets a custom poster (owner, moderators, admins). `read` yields the file's bytes and is only
   * called once the caller is known to manage the video.
   */
  async setCustom(id: string, read: () => Promise<Buffer>, user: AuthUser | null, role: Role): Promise<void> {
    const v = await this.d.videos.getManageable(id, user, role);
    const jpeg = await renderPoster(await read());
    const key = customPosterKey(id);
    await this.d.storage.put(key, jpeg, { contentType: objectContentType(UPLOADED_POSTER_REL) });
    await this.d.repo.update(id, { custom_poster_key: key });
    if (v.custom_poster_key === legacyCustomPosterKey(id)) await this.d.storage.delete(v.custom_poster_key);
    await this.d.videos.publish(id, { type: "updated", fields: ["poster"] });
  }
}
