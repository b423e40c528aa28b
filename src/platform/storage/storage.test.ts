import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../config.js";
import { DiskStorage } from "./disk.storage.js";
import { MULTIPART_PART_SIZE, S3Storage } from "./s3.storage.js";
import { startS3rver, type S3rverHandle } from "./s3rver.fixtures.js";
import { storageContract } from "./storage.contract.js";
import { createStorage } from "./storage.factory.js";

describe("DiskStorage", () => {
  let root = "";
  storageContract(
    "disk",
    async () => {
      root = await mkdtemp(path.join(tmpdir(), "vidflux-disk-storage-"));
      return new DiskStorage(root);
    },
    async () => {
      if (root) await rm(root, { recursive: true, force: true });
    },
  );
});

describe("S3Storage (s3rver)", () => {
  let server: S3rverHandle | undefined;
  const options = () => ({
    bucket: server!.bucket,
    region: server!.region,
    endpoint: server!.endpoint,
    accessKeyId: server!.accessKeyId,
    secretAccessKey: server!.secretAccessKey,
    // s3rver serves buckets on the path, not as virtual hosts.
    forcePathStyle: true,
    prefix: "deployment-a",
  });

  beforeAll(async () => {
    server = await startS3rver();
  });
  afterAll(async () => {
    await server?.stop();
  });

  storageContract("s3", () => new S3Storage(options()));

  it("uploads large files as multipart and aborts when the source fails", async () => {
    const storage = new S3Storage(options());
    const dir = await mkdtemp(path.join(tmpdir(), "vidflux-s3-multipart-"));
    try {
      const file = path.join(dir, "big.bin");
      await writeFile(file, randomBytes(MULTIPART_PART_SIZE * 2 + 1));
      // Observe which S3 operations go out (s3rver's multipart ETag is a plain MD5, so it cannot tell).
      const sent: string[] = [];
      storage.client.middlewareStack.add(
        (next, context) => async (args) => {
          sent.push(context.commandName ?? "?");
          return next(args);
        },
        { step: "initialize", name: "recordCommands" },
      );
      await storage.putFile("mp/big.bin", file);
      expect(sent.filter((c) => c === "UploadPartCommand")).toHaveLength(3);
      expect(sent).toContain("CompleteMultipartUploadCommand");
      expect(sent).not.toContain("PutObjectCommand");
      expect((await storage.stat("mp/big.bin"))!.size).toBe(MULTIPART_PART_SIZE * 2 + 1);

      sent.length = 0;

      const failing = Readable.from(
        (function* () {
          yield randomBytes(MULTIPART_PART_SIZE + 10);
          throw new Error("source broke");
        })(),
      );
      await expect(storage.put("mp/broken.bin", failing)).rejects.toThrow("source broke");
      expect(await storage.exists("mp/broken.bin")).toBe(false);
      expect(sent).toContain("AbortMultipartUploadCommand");
      await storage.deletePrefix("mp/");
    } finally {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps objects under the configured prefix", async () => {
    const storage = new S3Storage(options());
    try {
      await storage.put("videos/v1/original.mp4", "bytes");
      const res = await storage.client.send(new ListObjectsV2Command({ Bucket: server!.bucket, Prefix: "deployment-a/videos/v1/" }));
      expect(res.Contents?.map((o) => o.Key)).toEqual(["deployment-a/videos/v1/original.mp4"]);
      expect(await storage.list("videos/v1/")).toEqual(["videos/v1/original.mp4"]);
      await storage.deletePrefix("videos/");
    } finally {
      await storage.close();
    }
  });
});

describe("createStorage", () => {
  it("builds the adapter named by STORAGE", async () => {
    const disk = await createStorage(loadConfig({ NODE_ENV: "test", MEDIA_DIR: path.join(tmpdir(), "vidflux-unused-media") }));
    expect(disk).toBeInstanceOf(DiskStorage);
    expect(disk.localPath("videos/x/a.ts")).toBe(path.join(tmpdir(), "vidflux-unused-media", "videos", "x", "a.ts"));
    const s3 = await createStorage(loadConfig({ NODE_ENV: "test", STORAGE: "s3", S3_BUCKET: "b", S3_ENDPOINT: "http://127.0.0.1:1" }));
    expect(s3).toBeInstanceOf(S3Storage);
    await Promise.all([disk.close(), s3.close()]);
  });
});
