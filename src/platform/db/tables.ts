/**
 * Row types of every table, as Kysely sees them. Portable column types only, so one migration
 * runs on SQLite and PostgreSQL alike: ids are UUID text, timestamps ISO-8601 UTC text (they sort
 * as strings), booleans 0/1 integers, JSON as text.
 */
import type { Generated } from "kysely";

export type Bool = 0 | 1;

export interface UsersTable {
  id: string;
  username: string;
  /** lower-cased username: the unique key, so `Alice` and `alice` cannot both exist. */
  username_key: string;
  email: string;
  password_hash: string;
  role: string;
  display_name: string;
  bio: string;
  avatar_key: string | null;
  is_active: Bool;
  date_joined: string;
  last_login: string | null;
  /** Bumped on password change/deactivation; access tokens carry it so old ones die at once. */
  token_version: Generated<number>;
}

export interface RefreshTokensTable {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  replaced_by: string | null;
}

/** An email change waiting for the new address to confirm it (0008-sessions). */
export interface EmailChangesTable {
  id: string;
  user_id: string;
  new_email: string;
  token_hash: string;
  /** the session (refresh-token family) that asked: the one kept when the change is confirmed */
  requested_sid: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface PasswordResetTokensTable {
  id: string;
  user_id: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface VideosTable {
  id: string;
  owner_id: string;
  title: string;
  description: string;
  visibility: string;
  language: string | null;
  original_filename: string;
  size_bytes: number;
  status: string;
  playable: Bool;
  failure_code: string | null;
  failure_message: string | null;
  /** JSON: {step, percent, bytes_received, eta_s, queue_position} while it applies */
  progress: string | null;
  /** bumped when the visibility changes: playback tokens of an older epoch are refused */
  playback_epoch: Generated<number>;
  /** storage key of the original */
  source_key: string | null;
  /** JSON ProbeResult */
  probe: string | null;
  duration_s: number | null;
  /** JSON: the conversion's outputs (TranscodeResult) */
  media: string | null;
  /** bytes the conversion stored (renditions, thumbnails, subtitles, playlists); counted in the quota */
  media_bytes: Generated<number>;
  /** JSON: [{title, start}] */
  chapters: string | null;
  poster_choice: number | null;
  custom_poster_key: string | null;
  views: number;
  likes: number;
  dislikes: number;
  /** 1: viewers may comment; 0: existing comments stay, read-only */
  comments_enabled: Generated<Bool>;
  /** the owner's pinned top-level comment */
  pinned_comment_id: string | null;
  created_at: string;
  updated_at: string;
  published_at: string | null;
}

/** The embedded queue's jobs (db.queue.ts); JSON columns are text. */
export interface JobsTable {
  /** the enqueue idempotency key */
  id: string;
  name: string;
  payload: string;
  status: "waiting" | "active" | "completed" | "failed";
  /** attempts started so far; the running one included */
  attempts: Generated<number>;
  max_attempts: number;
  run_at: string;
  lease_until: string | null;
  worker_id: string | null;
  cancel_requested: Generated<Bool>;
  progress: string | null;
  result: string | null;
  error_code: string | null;
  error_message: string | null;
  /** whose turn the job takes (EnqueueOptions.fairnessKey; "" for jobs without one) */
  fairness_key: Generated<string>;
  /** the round the job is taken in: claims go by (turn, created_at) */
  turn: Generated<number>;
  created_at: string;
  updated_at: string;
}

/** tus upload resources (src/apps/uploads/); bytes staged under DATA_DIR/uploads/<id>. */
export interface UploadsTable {
  id: string;
  user_id: string;
  /** null for partial uploads (concatenation extension) */
  video_id: string | null;
  length: number;
  /** committed (fsynced) byte count */
  offset: number;
  /** JSON: the decoded Upload-Metadata pairs */
  metadata: string | null;
  /** Upload-Metadata exactly as received (HEAD must echo it) */
  metadata_header: string | null;
  partial: Bool;
  /** Upload-Concat exactly as received, for final uploads */
  concat_header: string | null;
  /** JSON: ids of the partial uploads a final upload was built from */
  concat_parts: string | null;
  /** uploading | completed | refused */
  state: string;
  failure_code: string | null;
  failure_message: string | null;
  expires_at: string;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

/** One reaction per user and video (src/apps/reactions/). */
export interface ReactionsTable {
  user_id: string;
  video_id: string;
  kind: "like" | "dislike";
  created_at: string;
}

export interface CommentsTable {
  id: string;
  video_id: string;
  /** null once the author's account is deleted */
  author_id: string | null;
  /** the top-level comment a reply belongs to */
  parent_id: string | null;
  /** null for a deleted comment kept as a placeholder */
  text: string | null;
  deleted: Generated<Bool>;
  likes: Generated<number>;
  reply_count: Generated<number>;
  created_at: string;
  edited_at: string | null;
}

export interface CommentLikesTable {
  user_id: string;
  comment_id: string;
  created_at: string;
}

export interface ReportsTable {
  id: string;
  reporter_id: string | null;
  target_kind: "comment" | "video";
  target_id: string;
  video_id: string;
  reason: string;
  details: string | null;
  status: "open" | "dismissed" | "removed";
  created_at: string;
  resolved_at: string | null;
  resolved_by: string | null;
}

export interface CommentBlocksTable {
  user_id: string;
  blocked_by: string | null;
  reason: string | null;
  created_at: string;
}

export interface HiddenCommentersTable {
  owner_id: string;
  user_id: string;
  created_at: string;
}

export interface WatchHistoryTable {
  user_id: string;
  video_id: string;
  /** seconds */
  position: number;
  /** the video's duration when saved, seconds (null if unknown) */
  duration: number | null;
  updated_at: string;
}

export interface WatchSettingsTable {
  user_id: string;
  history_paused: number;
  updated_at: string;
}

export interface Database {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  password_reset_tokens: PasswordResetTokensTable;
  email_changes: EmailChangesTable;
  videos: VideosTable;
  jobs: JobsTable;
  uploads: UploadsTable;
  reactions: ReactionsTable;
  comments: CommentsTable;
  comment_likes: CommentLikesTable;
  reports: ReportsTable;
  comment_blocks: CommentBlocksTable;
  hidden_commenters: HiddenCommentersTable;
  watch_history: WatchHistoryTable;
  watch_settings: WatchSettingsTable;
}
