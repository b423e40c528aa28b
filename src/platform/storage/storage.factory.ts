/**
 * Picks the storage adapter from config: disk under MEDIA_DIR by default, S3 when STORAGE=s3.
 */
import type { Config } from "../../config.js";
import { DiskStorage } from "./disk.storage.js";
import { S3Storage } from "./s3.storage.js";
import type { Storage } from "./storage.js";

export function createStorage(config: Config): Storage {
  const { storage } = config;
  switch (storage.kind) {
    case "disk":
      return new DiskStorage(storage.mediaDir);
    case "s3":
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
