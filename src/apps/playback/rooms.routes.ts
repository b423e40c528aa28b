/** Watch rooms over HTTP: create, look up, end (rooms.service.ts says what a room is). */
import { Type } from "@sinclair/typebox";
import type { App } from "../../lib/app.types.js";
import { NoContent, errors } from "../../lib/schemas.js";
import type { RoomsService } from "./rooms.service.js";
import { CreateRoomBody, RoomParams, RoomSchema, StreamParams } from "./playback.schemas.js";

const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ description: "An access token or the video's playback token." })) });

export async function roomRoutes(app: App, opts: { rooms: RoomsService }): Promise<void> {
  const { rooms } = opts;
  app.post(
    "/api/stream/:video_id/rooms/",
    {
      config: { auth: { required: true } },
      schema: {
        tags: ["playback"],
        summary: "Create a watch room",
        description: "A short code others join with `/ws/stream/{video_id}/?room=<code>` (or the HTTP fallback's `room`). `control: owner` keeps control to the creator.",
        security: [{ bearer: [] }],
        params: StreamParams,
        body: Type.Optional(CreateRoomBody),
        response: { 201: RoomSchema, ...errors([404, "No such video, or one the caller may not see (`video_not_found`)"]) },
      },
    },
    async (req, reply) => reply.status(201).send(await rooms.create(req, req.params.video_id, req.body?.control ?? "everyone")),
  );
  app.get(
    "/api/stream/:video_id/rooms/:code/",
    {
      schema: {
        tags: ["playback"],
        summary: "A watch room and who is in it",
        params: RoomParams,
        querystring: TokenQuery,
        response: { 200: RoomSchema, ...errors([403, "The token does not give access to this video"], [404, "No such room (`room_not_found`) or video"]) },
      },
    },
    async (req) => rooms.get(req, req.params.video_id, req.params.code, req.query.token),
  );
  app.delete(
    "/api/stream/:video_id/rooms/:code/",
    {
      config: { auth: { required: true } },
      schema: {
        tags: ["playback"],
        summary: "End a watch room (its creator, moderators, admins)",
        description: "Every member's connection receives an error `room_ended` and is closed with 4404.",
        security: [{ bearer: [] }],
        params: RoomParams,
        response: { 204: NoContent("Ended"), ...errors([403, "Not its creator, a moderator or an admin (`permission_denied`)"], [404, "No such room (`room_not_found`) or video"]) },
      },
    },
    async (req, reply) => {
      await rooms.end(req, req.params.video_id, req.params.code);
      return reply.status(204).send(null);
    },
  );
}
