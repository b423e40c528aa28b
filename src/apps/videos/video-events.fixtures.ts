/**
 * Test fixtures for the live-event suites: users with tokens and videos inserted directly, with
 * caller-chosen ids so two app instances (two databases) can hold the same rows.
 */
import { randomUUID } from "node:crypto";
import type { Harness } from "../../test/app-harness.js";
import { nowIso } from "../../lib/ids.js";
import type { Role } from "../users/index.js";
import type { VideoRow } from "./video.repository.js";
import type { Visibility } from "./video.types.js";

export interface TestUser {
  id: string;
  access: string;
}

export async function insertUser(h: Pick<Harness, "ctx" | "domains">, role: Role, id: string = randomUUID()): Promise<TestUser> {
  const username = `u${id.slice(0, 8)}`;
  await h.ctx.db
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
  // a real session (refresh-token family): access tokens are refused once theirs is gone
  return { id, access: (await h.domains.users.auth.issueTokens({ id, token_version: 0 })).access };
}

export async function insertVideo(h: Pick<Harness, "ctx" | "domains">, ownerId: string, visibility: Visibility, id?: string): Promise<VideoRow> {
  const row = await h.domains.videos.videos.create({
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
  await h.ctx.db.updateTable("videos").set({ id }).where("id", "=", row.id).execute();
  return { ...row, id };
}
