/**
 * Picks the storage adapter from config: disk under MEDIA_DIR by default, S3 when STORAGE=s3.
 */
import type { Config } from "../../config.js";
import { DiskStorage } from "./disk.storage.js";
import type { Storage } from "./storage.js";

/**
 * Async because the S3 adapter is imported only when chosen: the AWS SDK adds ~20 MB of RSS to
 * every process, which the embedded default (and its < 200 MB goal) should not pay for.
 */
export async function createStorage(config: Config): Promise<Storage> {
  const { storage } = config;
  switch (storage.kind) {
    case "disk":
      return new DiskStorage(storage.mediaDir);
    case "s3": {
      const { S3Storage } = await import("./s3.storage.js");
      return new S3Storage({
        bucket: storage.s3.bucket,
        region: storage.s3.region,
        endpoint: storage.s3.endpoint,
        accessKeyId: storage.s3.accessKeyId,
        secretAccessKey: storage.s3.secretAccessKey,
        forcePathStyle: storage.s3.forcePathStyle,
        prefix: storage.s3.prefix,
      });
    }
  }
}
