/**
 * The playback domain's schemas: the control messages (one schema per `type`, shared by the
 * WebSocket frames and `POST /api/stream/{id}/control/`), the session state, rooms and the
 * continue-watching history. TypeBox is the single source: validation, TS types and OpenAPI.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { TypeCompiler, ValueErrorType, type TypeCheck } from "@sinclair/typebox/compiler";
import { fieldError, validationError } from "../../lib/errors.js";
import { Nullable, StringEnum } from "../../lib/schemas.js";
import { MAX_SPEED, MIN_SPEED, PLAYBACK_STATUSES } from "./playback-state.js";

const Position = Type.Number({ description: "Seconds from the start." });

const VIDEO_ID = "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52";
const AT = "2026-01-02T03:04:05.000Z";
const STATE_EXAMPLE = {
  status: "playing",
  playing: true,
  position: 81.5,
  speed: 1,
  quality: "auto",
  audio_lang: "en",
  audio_track: "a0",
  subtitle_lang: null,
  version: 2,
  updated_at: AT,
  server_time: 1_767_323_045_000,
  waiting_for: [],
};
const MEMBER_EXAMPLE = { device: "tv", user: { id: "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d", username: "alice" }, transport: "ws", buffering: false, can_control: true };

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

export const ControlBody = Type.Union(Object.values(ControlMessages), {
  $id: "PlaybackControl",
  description: "A control message (the WebSocket frames' bodies).",
  examples: [{ type: "seek", position: 81.5 }, { type: "change_quality", quality: "480p" }, { type: "pause" }],
});

const checkers = Object.fromEntries(Object.entries(ControlMessages).map(([k, s]) => [k, TypeCompiler.Compile(s as TSchema)])) as Record<ControlType, TypeCheck<TSchema>>;

/** TypeBox's ValueErrorType (a number) as the API's stable keyword codes. */
export function typeboxCode(type: ValueErrorType): string {
  switch (type) {
    case ValueErrorType.StringMinLength:
      return "min_length";
    case ValueErrorType.StringMaxLength:
      return "max_length";
    case ValueErrorType.StringPattern:
      return "pattern";
    case ValueErrorType.ObjectAdditionalProperties:
      return "unknown_field";
    case ValueErrorType.ObjectRequiredProperty:
      return "required";
    case ValueErrorType.Literal:
    case ValueErrorType.Union:
      return "enum";
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return "minimum";
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.NumberExclusiveMaximum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.IntegerExclusiveMaximum:
      return "maximum";
    case ValueErrorType.String:
    case ValueErrorType.Number:
    case ValueErrorType.Integer:
    case ValueErrorType.Boolean:
    case ValueErrorType.Object:
    case ValueErrorType.Null:
      return "type";
    default:
      return "invalid";
  }
}

/**
 * Parses a decoded frame or body: unknown `type` → `unknown_message`; a known type with bad
 * fields → `validation_error` with the API's `details` form (`[{location, field, code, message}]`).
 */
export function parseControl(msg: { type: string } & Record<string, unknown>, location: "message" | "body" = "message"): ControlMessage {
  const check = (checkers as Partial<Record<string, TypeCheck<TSchema>>>)[msg.type];
  if (!check) throw fieldError("unknown_message", `Unknown message type "${msg.type}".`, location, "type", { entryMessage: `one of ${CONTROL_TYPES.join(", ")}` });
  if (!check.Check(msg)) {
    const details = [...check.Errors(msg)]
      .slice(0, 5)
      .map((e) => ({ location, field: e.path.replace(/^\//, "").replace(/\//g, ".") || "message", code: typeboxCode(e.type), message: e.message }));
    throw validationError(details, "Invalid message.");
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
  { $id: "PlaybackState", examples: [STATE_EXAMPLE] },
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
  {
    $id: "PlaybackStateResponse",
    description: "The session's state, its members and this device",
    examples: [{ type: "state", state: STATE_EXAMPLE, session: { kind: "personal", room: null, device: "tv", can_control: true }, members: [MEMBER_EXAMPLE], member_count: 1, by: null }],
  },
);

export const ControlResponse = Type.Object(
  { type: Type.Literal("state"), state: StateSchema, by: Nullable(Type.String()), version: Type.Integer(), switch: Type.Optional(SwitchSchema) },
  { $id: "PlaybackControlResponse", description: "The session's state after the message", examples: [{ type: "state", state: STATE_EXAMPLE, by: "phone", version: 2 }] },
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
  {
    $id: "WatchRoom",
    description: "A watch room",
    examples: [
      {
        code: "K7QX2M",
        video_id: VIDEO_ID,
        created_by: { id: MEMBER_EXAMPLE.user.id, username: "alice" },
        control: "everyone",
        created: AT,
        members: [MEMBER_EXAMPLE],
        count: 1,
        ws_url: `/ws/stream/${VIDEO_ID}/?room=K7QX2M`,
      },
    ],
  },
);

export const CreateRoomBody = Type.Object(
  { control: Type.Optional(StringEnum(["everyone", "owner"] as const, { default: "everyone" })) },
  { additionalProperties: false, examples: [{ control: "owner" }] },
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
export const HistoryPage = Type.Object(
  {
    count: Type.Integer(),
    next: Nullable(Type.String()),
    results: Type.Array(HistoryItemSchema),
  },
  {
    description: "Continue watching, latest first",
    examples: [
      {
        count: 1,
        next: null,
        results: [{ video: { id: VIDEO_ID, title: "My trip", duration: 62.5, poster: `/api/videos/${VIDEO_ID}/thumbs/poster.jpg` }, position: 30.2, duration: 62.5, finished: false, updated: AT }],
      },
    ],
  },
);
export const HistoryQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
});
export const HistorySettings = Type.Object(
  { paused: Type.Boolean({ description: "While true, no position is recorded." }) },
  { $id: "HistorySettings", description: "Whether history is paused", examples: [{ paused: false }] },
);
export const HistoryVideoParams = Type.Object({ video_id: Type.String({ format: "uuid" }) });

export type StateResponseBody = Static<typeof StateResponse>;
export type ControlResponseBody = Static<typeof ControlResponse>;
export type Member = Static<typeof MemberSchema>;
export type SwitchInfo = Static<typeof SwitchSchema>;
export type Room = Static<typeof RoomSchema>;
export type HistoryItem = Static<typeof HistoryItemSchema>;
