import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DiskUploadStore } from "./disk.upload-store.js";
import { uploadStoreContract } from "./upload-store.contract.js";

uploadStoreContract("disk", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "vidflux-upload-store-"));
  return { store: new DiskUploadStore(path.join(dir, "uploads")), close: async () => rmSync(dir, { recursive: true, force: true }) };
});
