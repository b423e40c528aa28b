/** Phase 2: the source as a local file ffmpeg can read. */
import { stat } from "node:fs/promises";
import path from "node:path";
import type { Storage } from "../../../platform/storage/storage.js";
import { storageOp } from "../transcode-errors.js";

/**
 * The local path of `sourceKey`. On local-disk storage ffmpeg reads the original in place (it
 * only reads): copying a multi-gigabyte file first would double the I/O for nothing. Other
 * storages download it into `jobDir`.
 */
export async function fetchSource(storage: Storage, sourceKey: string, jobDir: string): Promise<string> {
  const ext = (path.extname(sourceKey).toLowerCase().match(/^\.[a-z0-9]{1,8}$/) ?? [""])[0];
  const local = storage.localPath(sourceKey);
  if (local && (await stat(local).then((s) => s.isFile(), () => false))) return local;
  const input = path.join(jobDir, `source${ext}`);
  await storageOp("downloading the source", () => storage.download(sourceKey, input));
  return input;
}
