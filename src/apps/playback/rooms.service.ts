/**
 * Watch rooms: a short code that puts several people's devices in one playback session. Anyone
 * signed in who may see the video creates one; anyone who may see the video joins with
 * `?room=<code>` (anonymous viewers too, for public and unlisted videos). The creator may keep
 * control to themselves (`control: "owner"`) and ends the room with DELETE. A room also ends on
 * its own ROOM_IDLE_TTL (6 h) after its last member left: its record's expiry is pushed back by
 * every process that has members in it (PlaybackSessionService.heartbeat).
 */
import type { FastifyRequest } from "fastify";
import { forbidden, notFound, unauthorized } from "../../lib/errors.js";
import { listedMembers } from "./local-sessions.js";
import type { Room } from "./playback.schemas.js";
import { roomSid, type RoomRecord, type SessionStore } from "./session-store.js";
import type { ViewerAccess } from "./viewer-access.js";

export class RoomsService {
  constructor(
    private readonly access: ViewerAccess,
    private readonly store: SessionStore,
  ) {}

  async create(req: FastifyRequest, videoId: string, control: RoomRecord["control"], token?: string): Promise<Room> {
    const viewer = await this.access.identify(req, videoId, token);
    if (!viewer.user) throw unauthorized("not_authenticated", "Sign in to create a watch room.");
    await this.access.video(videoId, viewer);
    const room = await this.store.createRoom(videoId, { id: viewer.user.id, username: viewer.user.username }, control, new Date());
    return this.toRoom(room);
  }

  async get(req: FastifyRequest, videoId: string, code: string, token?: string): Promise<Room> {
    const viewer = await this.access.identify(req, videoId, token);
    await this.access.video(videoId, viewer);
    return this.toRoom(await this.find(videoId, code));
  }

  async end(req: FastifyRequest, videoId: string, code: string): Promise<void> {
    const viewer = await this.access.identify(req, videoId, undefined);
    if (!viewer.user) throw unauthorized("not_authenticated", "Authentication credentials were not provided.");
    const room = await this.find(videoId, code);
    if (room.createdBy.id !== viewer.user.id && viewer.role !== "admin" && viewer.role !== "moderator") {
      throw forbidden("Only the room's creator ends it.", "not_room_creator");
    }
    await this.store.deleteRoom(room);
  }

  private async find(videoId: string, code: string): Promise<RoomRecord> {
    const room = await this.store.room(code);
    if (!room || room.videoId !== videoId) throw notFound("No such watch room for this video (it may have ended).", "room_not_found");
    return room;
  }

  private async toRoom(r: RoomRecord): Promise<Room> {
    const members = await this.store.members({ videoId: r.videoId, sid: roomSid(r.code), room: r });
    return {
      code: r.code,
      video_id: r.videoId,
      created_by: r.createdBy,
      control: r.control,
      created: r.createdAt,
      ...listedMembers(members),
      ws_url: `/ws/stream/${r.videoId}/?room=${r.code}`,
    };
  }
}
