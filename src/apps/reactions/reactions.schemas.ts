/** TypeBox schemas of reactions, comments, reports and moderation: validation, types and OpenAPI. */
import { Type, type Static } from "@sinclair/typebox";
import { Nullable, StringEnum } from "../../lib/schemas.js";

export const REACTION_KINDS = ["like", "dislike"] as const;
export type ReactionKind = (typeof REACTION_KINDS)[number];

export const REPORT_REASONS = ["spam", "harassment", "hate", "violence", "sexual", "misinformation", "copyright", "other"] as const;
export const REPORT_STATUSES = ["open", "dismissed", "removed"] as const;

/** 1–5,000 Unicode code points after trimming (checked in comment-text.ts, with its own codes). */
export const MAX_COMMENT_CODE_POINTS = 5000;
/** 5,000 astral emoji escaped in JSON (`\ud83d\ude00`, 12 bytes each) fit; more is refused with 413. */
export const COMMENT_BODY_LIMIT = 64 * 1024;
export const FIRST_REPLIES = 3;

const ID = "0b9d7a9e-3c4f-4a51-9d7e-2f0c1e8b6a11";
const VIDEO_ID = "5f0e8a1c-2b7d-4e6a-8c3f-1d9b0a7e6c52";
const USER_ID = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";
const AT = "2026-01-02T03:04:05.000Z";

/** POST like/dislike take no body; `{}` or nothing. Extra fields are refused (400). */
export const EmptyBody = Type.Union([Type.Null(), Type.Object({}, { additionalProperties: false })], { description: "No body, or `{}`.", examples: [{}] });

export const ReactionStateSchema = Type.Object(
  {
    likes: Type.Integer({ minimum: 0 }),
    dislikes: Type.Integer({ minimum: 0 }),
    my_reaction: Nullable(StringEnum(REACTION_KINDS)),
  },
  { description: "The video's counts and your reaction", examples: [{ likes: 12, dislikes: 1, my_reaction: "like" }] },
);
export type ReactionState = Static<typeof ReactionStateSchema>;

export const CommentLikeStateSchema = Type.Object(
  { likes: Type.Integer({ minimum: 0 }), liked: Type.Boolean() },
  { description: "The comment's likes and whether you like it", examples: [{ likes: 3, liked: true }] },
);
export type CommentLikeState = Static<typeof CommentLikeStateSchema>;

export const CommentAuthorSchema = Type.Object({
  id: Type.String({ format: "uuid" }),
  username: Type.String(),
  avatar_url: Nullable(Type.String({ description: "64 px avatar, an absolute path" })),
});

const commentFields = {
  id: Type.String({ format: "uuid" }),
  video_id: Type.String({ format: "uuid" }),
  parent_id: Nullable(Type.String({ format: "uuid", description: "the top-level comment a reply belongs to" })),
  author: Nullable(CommentAuthorSchema),
  text: Nullable(Type.String({ description: "plain text exactly as written (trimmed); never HTML. null on a deleted placeholder" })),
  deleted: Type.Boolean({ description: "a deleted comment kept as a placeholder because it has replies" }),
  pinned: Type.Boolean(),
  likes: Type.Integer({ minimum: 0 }),
  reply_count: Type.Integer({ minimum: 0 }),
  time_refs: Type.Array(Type.Number(), { description: "seconds of the times written in the text (`1:23`, `01:02:03`) within the video's duration" }),
  created: Type.String({ format: "date-time" }),
  edited: Nullable(Type.String({ format: "date-time", description: "when the author last edited it" })),
};

const replyExample = {
  id: "7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7",
  video_id: VIDEO_ID,
  parent_id: ID,
  author: { id: USER_ID, username: "bob", avatar_url: null },
  text: "Agreed, 0:42 too",
  deleted: false,
  pinned: false,
  likes: 0,
  reply_count: 0,
  time_refs: [42],
  created: AT,
  edited: null,
};
const commentExample = { ...replyExample, id: ID, parent_id: null, text: "The drop at 1:23 <3", time_refs: [83], likes: 4, reply_count: 1 };

export const ReplySchema = Type.Object(commentFields, { description: "A comment or reply, without its replies", examples: [replyExample] });
export type Reply = Static<typeof ReplySchema>;

export const CommentSchema = Type.Object(
  { ...commentFields, replies: Type.Array(ReplySchema, { description: "the first 3 replies, oldest first (top-level comments only)" }) },
  { description: "A comment", examples: [{ ...commentExample, replies: [replyExample] }] },
);
export type Comment = Static<typeof CommentSchema>;

export const CommentCreateSchema = Type.Object(
  {
    text: Type.String({ description: "1–5,000 Unicode code points after trimming; no null bytes or lone surrogates" }),
    parent_id: Type.Optional(Nullable(Type.String({ format: "uuid", description: "reply to this comment (a reply to a reply attaches to its top-level comment)" }))),
  },
  { additionalProperties: false, examples: [{ text: "The drop at 1:23 <3" }, { text: "Agreed", parent_id: ID }] },
);
export type CommentCreate = Static<typeof CommentCreateSchema>;

export const CommentPatchSchema = Type.Object(
  { text: Type.String({ description: "same rules as on creation" }) },
  { additionalProperties: false, examples: [{ text: "The drop at 1:24, actually" }] },
);
export type CommentPatch = Static<typeof CommentPatchSchema>;

export const CommentListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
  ordering: Type.Optional(StringEnum(["-created", "created", "-likes"] as const, { default: "-created" })),
});
export type CommentListQuery = Static<typeof CommentListQuery>;

export const RecentCommentsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
  ordering: Type.Optional(StringEnum(["-created", "created"] as const, { default: "-created" })),
});
export type RecentCommentsQuery = Static<typeof RecentCommentsQuery>;

export const ReportCreateSchema = Type.Object(
  {
    reason: StringEnum(REPORT_REASONS),
    details: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false, examples: [{ reason: "spam", details: "Same link on every video" }] },
);
export type ReportCreate = Static<typeof ReportCreateSchema>;

const reportExample = {
  id: "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
  target_kind: "comment",
  target_id: ID,
  video_id: VIDEO_ID,
  reason: "spam",
  details: null,
  status: "open",
  created: AT,
  resolved: null,
};

export const ReportSchema = Type.Object(
  {
    id: Type.String({ format: "uuid" }),
    target_kind: StringEnum(["comment", "video"] as const),
    target_id: Type.String({ format: "uuid" }),
    video_id: Type.String({ format: "uuid" }),
    reason: Type.String(),
    details: Nullable(Type.String()),
    status: StringEnum(REPORT_STATUSES),
    created: Type.String({ format: "date-time" }),
    resolved: Nullable(Type.String({ format: "date-time" })),
  },
  { description: "A report", examples: [reportExample] },
);
export type Report = Static<typeof ReportSchema>;

export const ModerationReportSchema = Type.Object(
  {
    ...ReportSchema.properties,
    reporter: Nullable(Type.Object({ id: Type.String({ format: "uuid" }), username: Type.String() })),
    content: Type.Object({
      video: Nullable(Type.Object({ id: Type.String({ format: "uuid" }), title: Type.String(), owner_id: Type.String({ format: "uuid" }) })),
      comment: Nullable(ReplySchema),
    }),
  },
  {

    examples: [
      {
        ...reportExample,
        reporter: { id: USER_ID, username: "carol" },
        content: { video: { id: VIDEO_ID, title: "My trip", owner_id: USER_ID }, comment: { ...replyExample, parent_id: null, id: ID } },
      },
    ],
  },
);
export type ModerationReport = Static<typeof ModerationReportSchema>;

export const ReportListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
  status: Type.Optional(StringEnum(REPORT_STATUSES, { default: "open" })),
});
export type ReportListQuery = Static<typeof ReportListQuery>;

export const ResolveReportSchema = Type.Object(
  {
    action: StringEnum(["dismiss", "remove"] as const, { description: "`remove` deletes the reported comment or video" }),
  },
  { additionalProperties: false, examples: [{ action: "remove" }] },
);
export type ResolveReport = Static<typeof ResolveReportSchema>;

export const BlockCreateSchema = Type.Object(
  { user_id: Type.String({ format: "uuid" }), reason: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false, examples: [{ user_id: USER_ID, reason: "Repeated harassment" }] },
);
export type BlockCreate = Static<typeof BlockCreateSchema>;

export const BlockSchema = Type.Object(
  { user_id: Type.String({ format: "uuid" }), reason: Nullable(Type.String()), created: Type.String({ format: "date-time" }) },
  { description: "A commenting block", examples: [{ user_id: USER_ID, reason: "Repeated harassment", created: AT }] },
);
export type Block = Static<typeof BlockSchema>;

export const BlockListed = Type.Object(
  {
    user_id: Type.String({ format: "uuid" }),
    username: Nullable(Type.String({ description: "null once the account is deleted" })),
    reason: Nullable(Type.String()),
    created: Type.String({ format: "date-time" }),
  },
  { description: "A commenting block, with the blocked user's name", examples: [{ user_id: USER_ID, username: "troll42", reason: "Repeated harassment", created: AT }] },
);
export type BlockListed = Static<typeof BlockListed>;

export const BlockListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
});
export type BlockListQuery = Static<typeof BlockListQuery>;

export const UserIdParams = Type.Object({ user_id: Type.String({ format: "uuid" }) });

export const LiveQuery = Type.Object({
  token: Type.Optional(Type.String({ description: "Access token, for EventSource which cannot send headers (private videos)." })),
  last_event_id: Type.Optional(Type.Integer({ minimum: 0, description: "Same as the Last-Event-ID header." })),
});
