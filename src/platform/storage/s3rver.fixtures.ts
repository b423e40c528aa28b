/**
 * Test-only helper: an in-process s3rver (a real S3 HTTP implementation backed by a temp dir) on
 * 127.0.0.1 with a random port, so S3 code paths are exercised without credentials or network.
 * Never import this from production code (s3rver is a devDependency).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
}
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverCtor = new (opts: S3rverOptions) => S3rverInstance;

export interface S3rverHandle {
  endpoint: string;
  region: string;
  bucket: string;
  /** s3rver's fixed credentials; it verifies SigV4 signatures (including presigned URLs) against them. */
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

export async function startS3rver(bucket = "vidflux-test"): Promise<S3rverHandle> {
  // s3rver is CommonJS without type declarations; a local type keeps `any` out without a global
  // `declare module` that could clash with another one in the tree.
  const S3rver = createRequire(import.meta.url)("s3rver") as S3rverCtor;
  const directory = await mkdtemp(path.join(tmpdir(), "vidflux-s3rver-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, directory, silent: true, configureBuckets: [{ name: bucket }] });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    region: "us-east-1",
    bucket,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
