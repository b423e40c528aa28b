/**
 * Test fixtures for the live-event suites: users with tokens and videos inserted directly, with
 * caller-chosen ids so two app instances (two databases) can hold the same rows.
 */
import { randomUUID } from "node:crypto";
import type { AppContext } from "../../context.js";
import { nowIso } from "../../lib/ids.js";
import type { Role } from "../users/permissions.js";
import { VideoRepository, type VideoRow } from "./video.repository.js";
import { VideoService } from "./video.service.js";
import type { Visibility } from "./video.types.js";

export interface TestUser {
  id: string;
  access: string;
}

export async function insertUser(ctx: AppContext, role: Role, id: string = randomUUID()): Promise<TestUser> {
  const username = `u${id.slice(0, 8)}`;
  await ctx.db
    .insertInto("users")
    .values({
      id,
      username,
      username_key: username,
      email: `${username}@example.test`,
      password_hash: "not-a-password-hash",
      role,
      display_name: username,
      bio: "",
      avatar_key: null,
      is_active: 1,
      date_joined: nowIso(),
      last_login: null,
    })
    .execute();
  return { id, access: await ctx.tokens.signAccess(id, 0) };
}

export async function insertVideo(ctx: AppContext, ownerId: string, visibility: Visibility, id?: string): Promise<VideoRow> {
  const repo = new VideoRepository(ctx.db);
  const service = new VideoService(repo, ctx.events, ctx.storage, ctx.queue, ctx.config);
  const row = await service.create({
    ownerId,
    title: "Live events test",
    description: "",
    visibility,
    language: null,
    originalFilename: "clip.mp4",
    sizeBytes: 1000,
  });
  if (id === undefined) return row;
  // A fixed id, so a second instance's database can hold the same video.
  await ctx.db.updateTable("videos").set({ id }).where("id", "=", row.id).execute();
  return { ...row, id };
}
