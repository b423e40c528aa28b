/**
 * The uploads domain's operations as the HTTP handlers call them: a thin
 * facade over the tus protocol state (TusUploadService), the simple multipart upload
 * (SimpleUploadService). It holds no state and no logic of
 * its own, so a handler needs one object; each piece is built, and can be tested, alone (see
 * uploads.module.ts).
 */
import type { Readable } from "node:stream";
import type { AuthUser } from "../users/index.js";
import type { VideoRow } from "../videos/index.js";
import type { SimpleUploadService, StagedFile } from "./simple-upload.service.js";
import type { AppendOutcome, BodyInput, CreateInput, Created, TusUploadService } from "./tus-upload.service.js";
import type { VideoFields } from "./upload-metadata.js";
import type { UploadRow } from "./upload.repository.js";

export class UploadService {
  constructor(
    private readonly tus: TusUploadService,
    private readonly simple: SimpleUploadService,
  ) {}

  // tus

  load(user: AuthUser, id: string): Promise<UploadRow> {
    return this.tus.load(user, id);
  }

  assertLive(row: UploadRow): void {
    this.tus.assertLive(row);
  }

  create(user: AuthUser, input: CreateInput): Promise<Created> {
    return this.tus.create(user, input);
  }

  append(user: AuthUser, id: string, offset: number, body: BodyInput): Promise<AppendOutcome> {
    return this.tus.append(user, id, offset, body);
  }

  terminate(user: AuthUser, id: string): Promise<void> {
    return this.tus.terminate(user, id);
  }

  // simple (multipart) upload

  checkSimpleAllowed(user: AuthUser, contentLength: number | null): Promise<void> {
    return this.simple.checkAllowed(user, contentLength);
  }

  stageSimple(file: Readable, maxBytes: number): Promise<StagedFile> {
    return this.simple.stage(file, maxBytes);
  }

  discardSimple(staged: StagedFile): Promise<void> {
    return this.simple.discard(staged);
  }

  createSimple(user: AuthUser, fields: VideoFields, staged: StagedFile): Promise<VideoRow> {
    return this.simple.create(user, fields, staged);
  }
}
