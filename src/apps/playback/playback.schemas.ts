/**
 * The playback domain's schemas: the control messages (one schema per `type`, shared by the
 * WebSocket frames and `POST /api/stream/{id}/control/`), the session state, rooms and the
 * continue-watching history. TypeBox is the single source: validation, TS types and OpenAPI.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { badRequest } from "../../lib/errors.js";
import { Nullable, StringEnum } from "../../lib/schemas.js";
import { MAX_SPEED, MIN_SPEED, PLAYBACK_STATUSES } from "./playback-state.js";

const Position = Type.Number({ description: "Seconds from the start." });

/** One schema per message type: what a device may send. */
export const ControlMessages = {
  play: Type.Object({ type: Type.Literal("play") }, { additionalProperties: false }),
  pause: Type.Object({ type: Type.Literal("pause") }, { additionalProperties: false }),
  seek: Type.Object({ type: Type.Literal("seek"), position: Position }, { additionalProperties: false }),
  change_speed: Type.Object(
    { type: Type.Literal("change_speed"), speed: Type.Number({ description: `${MIN_SPEED} to ${MAX_SPEED}.` }) },
    { additionalProperties: false },
  ),
  change_quality: Type.Object(
    {
      type: Type.Literal("change_quality"),
      quality: Type.String({ maxLength: 16, description: "`auto` or a rung of the video (`480p`)." }),
      // A union of literals, not StringEnum (Type.Unsafe): the TypeBox compiler checks frames.
      scope: Type.Optional(Type.Union([Type.Literal("session"), Type.Literal("device")], { description: "`session` (default): what every device plays; `device`: the sender only." })),
    },
    { additionalProperties: false },
  ),
  change_lang: Type.Object(
    {
      type: Type.Literal("change_lang"),
      audio: Type.Optional(Type.String({ maxLength: 64, description: "A language (`fr`, `fra`, `fre`), or an audio track's id or name." })),
      subtitles: Type.Optional(Nullable(Type.String({ maxLength: 64, description: "A subtitle language, `off` or null for none." }))),
    },
    { additionalProperties: false },
  ),
  buffering: Type.Object({ type: Type.Literal("buffering") }, { additionalProperties: false }),
  ready: Type.Object({ type: Type.Literal("ready") }, { additionalProperties: false }),
  sync: Type.Object({ type: Type.Literal("sync") }, { additionalProperties: false }),
} as const;

export type ControlType = keyof typeof ControlMessages;
export type ControlMessage = { [K in ControlType]: Static<(typeof ControlMessages)[K]> }[ControlType];
export const CONTROL_TYPES = Object.keys(ControlMessages) as ControlType[];

export const ControlBody = Type.Union(Object.values(ControlMessages), { $id: "PlaybackControl", description: "A control message (the WebSocket frames' bodies)." });

const checkers = Object.fromEntries(Object.entries(ControlMessages).map(([k, s]) => [k, TypeCompiler.Compile(s as TSchema)])) as Record<ControlType, TypeCheck<TSchema>>;

/**
 * Parses a decoded frame or body: unknown `type` → `unknown_message`; a known type with bad
 * fields → `validation_error` with the API's `details` form (`[{field, location, message}]`).
 */
export function parseControl(msg: { type: string } & Record<string, unknown>, location: "message" | "body" = "message"): ControlMessage {
  const check = (checkers as Partial<Record<string, TypeCheck<TSchema>>>)[msg.type];
  if (!check) throw badRequest("unknown_message", `Unknown message type "${msg.type}".`, [{ field: "type", location, message: `one of ${CONTROL_TYPES.join(", ")}` }]);
  if (!check.Check(msg)) {
    const details = [...check.Errors(msg)].slice(0, 5).map((e) => ({ field: e.path.replace(/^\//, "").replace(/\//g, ".") || "message", location, message: e.message }));
    throw badRequest("validation_error", "Invalid message.", details);
  }
  return msg as ControlMessage;
}

export const StateSchema = Type.Object(
  {
    status: StringEnum(PLAYBACK_STATUSES),
    playing: Type.Boolean(),
    position: Type.Number({ description: "Seconds, as of `server_time` (extrapolated while playing)." }),
    speed: Type.Number(),
    quality: Type.String(),
    audio_lang: Nullable(Type.String()),
    audio_track: Nullable(Type.String({ description: "The audio track's id (two tracks may share a language)." })),
    subtitle_lang: Nullable(Type.String()),
    version: Type.Integer(),
    updated_at: Type.String({ format: "date-time" }),
    server_time: Type.Integer({ description: "Server clock, ms since the epoch, at which `position` was computed." }),
    waiting_for: Type.Array(Type.String(), { description: "While `waiting`: the devices not ready yet." }),
  },
  { $id: "PlaybackState" },
);

export const MemberSchema = Type.Object({
  device: Type.String(),
  user: Nullable(Type.Object({ id: Type.String(), username: Type.String() })),
  transport: StringEnum(["ws", "http"] as const),
  buffering: Type.Boolean(),
  can_control: Type.Boolean(),
});

export const SwitchSchema = Type.Object(
  {
    quality: Type.String(),
    playlist_url: Nullable(Type.String({ description: "The rung's media playlist (null for `auto`: the master)." })),
    hls_url: Type.String({ description: "The master playlist." }),
    mp4_url: Nullable(Type.String()),
    audio: Nullable(Type.Object({ id: Type.String(), language: Type.String(), name: Type.String(), url: Type.String() })),
    subtitles: Nullable(Type.Object({ lang: Type.String(), name: Type.String(), url: Type.String() })),
  },
  { $id: "PlaybackSwitch", description: "Where the sender switches to after change_quality / change_lang (tokenized for private videos)." },
);

export const SessionInfoSchema = Type.Object({
  kind: StringEnum(["personal", "room"] as const),
  room: Nullable(Type.String()),
  device: Type.String(),
  can_control: Type.Boolean(),
});

export const StateResponse = Type.Object(
  {
    type: Type.Literal("state"),
    state: StateSchema,
    session: SessionInfoSchema,
    members: Type.Array(MemberSchema, { description: "Up to 100 members, those buffering first." }),
    member_count: Type.Integer({ description: "Everyone present." }),
    by: Nullable(Type.String()),
  },
  { $id: "PlaybackStateResponse" },
);

export const ControlResponse = Type.Object(
  { type: Type.Literal("state"), state: StateSchema, by: Nullable(Type.String()), version: Type.Integer(), switch: Type.Optional(SwitchSchema) },
  { $id: "PlaybackControlResponse" },
);

export const StreamParams = Type.Object({ video_id: Type.String({ format: "uuid" }) });

export const SessionQuery = Type.Object({
  token: Type.Optional(Type.String({ description: "An access token, or the video's playback token (private videos)." })),
  device: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_.:-]+$", description: "This device's id; random when absent (the answer says which)." })),
  room: Type.Optional(Type.String({ minLength: 4, maxLength: 16, description: "A watch room's code: join it instead of the personal session." })),
});

export const StateQuery = Type.Composite([
  SessionQuery,
  Type.Object({ since: Type.Optional(Type.Integer({ minimum: 0, description: "Long poll: answer once the version passes this (or after ~25 s)." })) }),
]);

export const RoomSchema = Type.Object(
  {
    code: Type.String(),
    video_id: Type.String(),
    created_by: Type.Object({ id: Type.String(), username: Type.String() }),
    control: StringEnum(["everyone", "owner"] as const, { description: "`owner`: only the creator's devices control playback." }),
    created: Type.String({ format: "date-time" }),
    members: Type.Array(MemberSchema, { description: "Up to 100 members, those buffering first." }),
    count: Type.Integer({ description: "Everyone present." }),
    ws_url: Type.String(),
  },
  { $id: "WatchRoom" },
);

export const CreateRoomBody = Type.Object(
  { control: Type.Optional(StringEnum(["everyone", "owner"] as const, { default: "everyone" })) },
  { additionalProperties: false },
);
export const RoomParams = Type.Object({ video_id: Type.String({ format: "uuid" }), code: Type.String({ minLength: 4, maxLength: 16 }) });

export const HistoryItemSchema = Type.Object(
  {
    video: Type.Object({ id: Type.String(), title: Type.String(), duration: Nullable(Type.Number()), poster: Nullable(Type.String()) }),
    position: Type.Number(),
    duration: Nullable(Type.Number()),
    finished: Type.Boolean(),
    updated: Type.String({ format: "date-time" }),
  },
  { $id: "HistoryItem" },
);
export const HistoryPage = Type.Object({
  count: Type.Integer(),
  next: Nullable(Type.String()),
  results: Type.Array(HistoryItemSchema),
});
export const HistoryQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
});
export const HistorySettings = Type.Object({ paused: Type.Boolean({ description: "While true, no position is recorded." }) }, { $id: "HistorySettings" });
export const HistoryVideoParams = Type.Object({ video_id: Type.String({ format: "uuid" }) });

export type StateResponseBody = Static<typeof StateResponse>;
export type ControlResponseBody = Static<typeof ControlResponse>;
export type Member = Static<typeof MemberSchema>;
export type SwitchInfo = Static<typeof SwitchSchema>;
export type Room = Static<typeof RoomSchema>;
export type HistoryItem = Static<typeof HistoryItemSchema>;
