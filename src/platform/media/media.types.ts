/**
 * What ffprobe tells about a source, normalized. Produced by the media adapter's `probe()`
 * (`src/platform/media/`), consumed by upload validation, the ladder builder and the info service.
 */
export interface VideoStreamInfo {
  index: number;
  codec: string;
  /** coded width/height as stored */
  width: number;
  height: number;
  /** after applying display rotation and making pixels square (what a viewer sees) */
  displayWidth: number;
  displayHeight: number;
  /** display rotation in degrees, normalized to 0/90/180/270 */
  rotation: number;
  /** sample aspect ratio [num, den]; [1,1] for square pixels */
  sar: [number, number];
  /** frames per second (avg_frame_rate, falling back to r_frame_rate); 0 if unknown */
  fps: number;
  /** true when r_frame_rate and avg_frame_rate differ noticeably (phone VFR) */
  isVfr: boolean;
  pixFmt: string;
  bitDepth: number;
  bitRate: number | null;
}

export interface AudioStreamInfo {
  index: number;
  codec: string;
  channels: number;
  sampleRate: number;
  /** raw language tag from the container (e.g. `eng`), null when absent */
  language: string | null;
  title: string | null;
  bitRate: number | null;
  isDefault: boolean;
}

export interface SubtitleStreamInfo {
  index: number;
  codec: string;
  language: string | null;
  title: string | null;
  /** text-based (subrip, mov_text, ass, ssa, webvtt) and so convertible to WebVTT */
  isText: boolean;
}

export interface ChapterInfo {
  start: number;
  end: number;
  title: string;
}

export interface ProbeResult {
  /** normalized container: mp4 | mov | m4v | mkv | webm | avi | mpegts | ogg | other */
  container: string;
  /** ffprobe's raw format_name, e.g. `mov,mp4,m4a,3gp,3g2,mj2` */
  formatName: string;
  durationS: number;
  sizeBytes: number;
  bitRate: number | null;
  video: VideoStreamInfo | null;
  audio: AudioStreamInfo[];
  subtitles: SubtitleStreamInfo[];
  chapters: ChapterInfo[];
}
