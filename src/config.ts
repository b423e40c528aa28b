/**
 * The one reader of process.env. Every setting is parsed and validated here, at boot, with a
 * message naming the bad variable; the rest of the code receives a typed, frozen `Config`.
 * Tests call `loadConfig({...})` with their own environment object.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import path from "node:path";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, def: string): string {
  const v = env[name];
  return v === undefined || v === "" ? def : v;
}

function optStr(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === "" ? undefined : v;
}

function int(env: Env, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = env[name];
  if (v === undefined || v === "") return def;
  if (!/^-?\d+$/.test(v.trim())) throw new ConfigError(`${name} must be an integer`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}`);
  return n;
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4 };

/** Sizes accept plain bytes or a base-1024 unit: `10G`, `100MB`, `5 MiB`. */
function size(env: Env, name: string, def: number): number {
  const v = env[name];
  if (v === undefined || v === "") return def;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new ConfigError(`${name} must be a size in bytes (e.g. 1048576, 100M, 10G)`);
  return Math.floor(Number(m[1]) * unit);
}

/**
 * FFMPEG_MEMORY_LIMIT's default: 1 GiB + 320 MiB per CPU. What it bounds is VmData (a watchdog
 * kills ffmpeg there, the kernel's RLIMIT_DATA stops it at 1.5×: platform/media/child-limits.ts;
 * a conversion adds 64 B per source pixel), and what a legitimate conversion needs grows with the
 * threads ffmpeg starts, one set per CPU (x264 1.5 per CPU and rung, frame-threaded decoding,
 * 8 MiB of stack each). Measured peak VmData of the single-decode 1080p ladder (10 s 1080p30 High
 * profile source, LADDER 240–1080, veryfast): 940 MiB on 2 CPUs, 2.1 GiB on 8, 3.7 GiB on 16,
 * 6.6 GiB on 32 (x264/decoder thread counts of 8/16/32 CPUs forced with -threads); this is
 * 1.6–1.8× that. A 4K source (same ladder) measured 923 MiB on 2 CPUs.
 */
function defaultFfmpegMemoryLimit(cpus: number): number {
  return 1024 ** 3 + cpus * 320 * 1024 ** 2;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const v = env[name];
  if (v === undefined || v === "") return def;
  const s = v.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(s)) return true;
  if (["0", "false", "no", "off"].includes(s)) return false;
  throw new ConfigError(`${name} must be a boolean (true/false)`);
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], def: T): T {
  const v = env[name];
  if (v === undefined || v === "") return def;
  if (!(values as readonly string[]).includes(v)) throw new ConfigError(`${name} must be one of ${values.join(", ")}`);
  return v as T;
}

function list(env: Env, name: string, def: string[]): string[] {
  const v = env[name];
  if (v === undefined) return def;
  return v.split(",").map((s) => s.trim()).filter(Boolean);
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const v = optStr(env, name);
  if (v === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(`${name} must be a URL`);
  }
  if (!protocols.includes(u.protocol)) throw new ConfigError(`${name} must use ${protocols.join(" or ")}`);
  return v;
}

/** `LADDER=240,480,720,1080` or `240p,360p,...`; heights, counted on the shorter side. */
function ladder(env: Env, name: string, def: number[]): number[] {
  const v = env[name];
  if (v === undefined || v === "") return def;
  const out = v.split(",").map((s) => s.trim().replace(/p$/i, ""));
  if (out.some((s) => !/^\d+$/.test(s) || Number(s) < 16 || Number(s) > 4320)) {
    throw new ConfigError(`${name} must be a comma-separated list of heights like 240,480,720,1080`);
  }
  return [...new Set(out.map(Number))].sort((a, b) => a - b);
}

export type NodeEnv = "development" | "production" | "test";
export type JwtAlg = "HS256" | "RS256" | "EdDSA";

export function loadConfig(env: Env = process.env) {
  const nodeEnv = oneOf<NodeEnv>(env, "NODE_ENV", ["development", "production", "test"], "development");
  const dataDir = path.resolve(str(env, "DATA_DIR", "./data"));
  const databaseUrl = url(env, "DATABASE_URL", ["postgres:", "postgresql:", "sqlite:", "file:"]);
  const storage = oneOf(env, "STORAGE", ["disk", "s3"] as const, "disk");
  const jwtAlg = oneOf<JwtAlg>(env, "JWT_ALG", ["HS256", "RS256", "EdDSA"], "HS256");
  const jwtPrivateKeyFile = optStr(env, "JWT_PRIVATE_KEY_FILE");
  const jwtPublicKeyFile = optStr(env, "JWT_PUBLIC_KEY_FILE");
  if (jwtAlg !== "HS256" && (!jwtPrivateKeyFile || !jwtPublicKeyFile)) {
    throw new ConfigError(`JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE are required when JWT_ALG=${jwtAlg}`);
  }
  const jwtSecret = optStr(env, "JWT_SECRET");
  if (jwtSecret !== undefined && jwtSecret.length < 32) throw new ConfigError("JWT_SECRET must be at least 32 characters");
  if (jwtSecret === undefined && jwtAlg === "HS256" && nodeEnv === "production") {
    throw new ConfigError("JWT_SECRET is required when NODE_ENV=production");
  }
  const s3Bucket = optStr(env, "S3_BUCKET");
  if (storage === "s3" && !s3Bucket) throw new ConfigError("S3_BUCKET is required when STORAGE=s3");
  const mediaOffload = oneOf(env, "MEDIA_OFFLOAD", ["none", "nginx"] as const, "none");
  // Refused rather than ignored: an operator who asked for nginx offload and silently got every
  // byte proxied through Node would find out from a saturated API, not from the log.
  if (mediaOffload === "nginx" && storage === "s3") {
    throw new ConfigError("MEDIA_OFFLOAD=nginx needs STORAGE=disk (nginx sends the files from MEDIA_DIR); with STORAGE=s3 use S3_STREAM_MODE=redirect");
  }
  const mediaOffloadPrefix = str(env, "MEDIA_OFFLOAD_PREFIX", "/internal-media/");
  // It starts the X-Accel-Redirect URI and names an nginx location: a plain absolute path
  // ending in "/", nothing nginx would split off (`?`, `#`) or resolve (no segment starts with a dot).
  if (!/^\/([A-Za-z0-9_~-][A-Za-z0-9._~-]*\/)+$/.test(mediaOffloadPrefix)) {
    throw new ConfigError("MEDIA_OFFLOAD_PREFIX must be an absolute path ending in / (letters, digits, . _ ~ -), like /internal-media/");
  }

  const dbKind: "sqlite" | "postgres" = databaseUrl && /^postgres(ql)?:/.test(databaseUrl) ? "postgres" : "sqlite";
  const databaseSchema = optStr(env, "DATABASE_SCHEMA");
  // it becomes `-c search_path=<schema>` on every connection: a plain identifier only
  if (databaseSchema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(databaseSchema)) {
    throw new ConfigError("DATABASE_SCHEMA must be a plain PostgreSQL identifier (letters, digits, _)");
  }
  const sqlitePath = databaseUrl && dbKind === "sqlite"
    ? databaseUrl.replace(/^(sqlite|file):(\/\/)?/, "")
    : path.join(dataDir, "vidflux.sqlite3");

  const config = {
    nodeEnv,
    isDev: nodeEnv !== "production",
    port: int(env, "PORT", 8000, 0, 65535),
    host: str(env, "HOST", "0.0.0.0"),
    /** Behind a reverse proxy: trust X-Forwarded-* for client IPs (rate limits, view dedupe). */
    trustProxy: bool(env, "TRUST_PROXY", false),
    /** Absolute base URL of links in emails and responses (avatars, pages, tus Location stays relative). */
    publicUrl: url(env, "PUBLIC_URL", ["http:", "https:"]),
    /**
     * Without PUBLIC_URL, the Host values (`name` or `name:port`, lower case) whose requests get
     * absolute URLs built from that Host; any other Host gets relative URLs, never its own echo.
     */
    trustedHosts: list(env, "TRUSTED_HOSTS", []).map((h) => h.toLowerCase()),
    /**
     * The site is served over HTTPS (directly or by the proxy in front): only then are HSTS and the
     * CSP's `upgrade-insecure-requests` sent. Over plain HTTP under any host name but localhost
     * they would make the browser rewrite every script and API URL to https and the page would
     * never load. Default: on when PUBLIC_URL is https.
     */
    httpsOnly: bool(env, "HTTPS_ONLY", (optStr(env, "PUBLIC_URL") ?? "").startsWith("https:")),
    /** Who may frame the embeddable player at `/embed/{id}` (CSP frame-ancestors); every other page may not be framed. */
    embedFrameAncestors: list(env, "EMBED_FRAME_ANCESTORS", ["*"]),
    /**
     * Connection limits of the HTTP server (ms): all request headers within `headersTimeoutMs`
     * (Node's headersTimeout, every request), idle keep-alive connections closed after
     * `keepAliveTimeoutMs`, a request body within `bodyTimeoutMs` except on upload routes, where
     * it is `uploadIdleTimeoutMs` without a byte instead (a 10 GB PATCH legitimately takes hours).
     */
    http: {
      headersTimeoutMs: int(env, "HTTP_HEADERS_TIMEOUT", 10, 1, 3600) * 1000,
      keepAliveTimeoutMs: int(env, "HTTP_KEEPALIVE_TIMEOUT", 5, 1, 3600) * 1000,
      bodyTimeoutMs: int(env, "HTTP_BODY_TIMEOUT", 60, 1, 24 * 3600) * 1000,
      uploadIdleTimeoutMs: int(env, "HTTP_UPLOAD_IDLE_TIMEOUT", 60, 1, 24 * 3600) * 1000,
    },
    /**
     * Bearer token `GET /metrics` requires (401 without it); unset: the metrics are open, for a
     * scraper on a private network or behind a proxy that hides the path.
     */
    metricsToken: optStr(env, "METRICS_TOKEN"),
    /**
     * `npm run start:worker`: the port of its own small metrics server (`GET /metrics`), 0 for
     * none (the default: a worker opens no port unless asked), and the address it binds.
     */
    workerMetrics: {
      port: int(env, "WORKER_METRICS_PORT", 0, 0, 65535),
      host: str(env, "WORKER_METRICS_HOST", "0.0.0.0"),
    },
    logLevel: oneOf(env, "LOG_LEVEL", ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const, nodeEnv === "test" ? "silent" : "info"),
    dataDir,
    /** `schema`: PostgreSQL schema of the tables (DATABASE_SCHEMA), default the server's search_path */
    db: { kind: dbKind, url: databaseUrl, sqlitePath, schema: dbKind === "postgres" ? databaseSchema : undefined },
    redisUrl: url(env, "REDIS_URL", ["redis:", "rediss:"]),
    /** Namespace of every Redis key, queue and channel (several deployments can share one Redis). */
    redisPrefix: str(env, "REDIS_PREFIX", "vidflux"),
    /** Run queue workers inside the API process (embedded default); `start:api` turns it off. */
    embeddedWorker: bool(env, "EMBEDDED_WORKER", true),
    /**
     * A worker holds a job by renewing a lease (embedded queue) or a lock (BullMQ) of this length;
     * a SIGKILLed worker's job is taken again by another worker once it lapses.
     */
    jobLeaseS: int(env, "JOB_LEASE_SECONDS", 30, 2, 3600),
    /**
     * SIGTERM/SIGINT: how long in-flight requests and running jobs get to finish; then the
     * connections left are cut and the jobs still running are aborted and handed back to the
     * queue (a few seconds more). 25 s leaves that hand-back inside Kubernetes' default 30 s
     * before SIGKILL. SHUTDOWN_GRACE_SECONDS is its older name, still read when this is unset.
     */
    shutdownTimeoutS: int(env, "SHUTDOWN_TIMEOUT", int(env, "SHUTDOWN_GRACE_SECONDS", 25, 0, 3600), 0, 3600),
    storage: {
      kind: storage,
      mediaDir: path.resolve(str(env, "MEDIA_DIR", path.join(dataDir, "media"))),
      s3: {
        bucket: s3Bucket ?? "",
        region: str(env, "S3_REGION", "us-east-1"),
        endpoint: url(env, "S3_ENDPOINT", ["http:", "https:"]),
        accessKeyId: optStr(env, "S3_ACCESS_KEY_ID"),
        secretAccessKey: optStr(env, "S3_SECRET_ACCESS_KEY"),
        forcePathStyle: bool(env, "S3_FORCE_PATH_STYLE", false),
        prefix: str(env, "S3_PREFIX", ""),
        /** `proxy` streams ranged GetObject through the API; `redirect` answers 302 to a presigned URL. */
        streamMode: oneOf(env, "S3_STREAM_MODE", ["proxy", "redirect"] as const, "proxy"),
      },
      /**
       * `nginx`: media GETs (disk only) are answered, once access is checked, with an empty body
       * and `X-Accel-Redirect: <prefix><key>`, and nginx sends the file from its internal
       * location (deploy/nginx.conf). `none`: Node sends the bytes.
       */
      offload: { mode: mediaOffload, prefix: mediaOffloadPrefix },
    },
    auth: {
      jwtAlg,
      jwtSecret,
      jwtPrivateKeyFile,
      jwtPublicKeyFile,
      accessTtlS: int(env, "ACCESS_TOKEN_TTL", 15 * 60, 10),
      refreshTtlS: int(env, "REFRESH_TOKEN_TTL", 14 * 24 * 3600, 60),
      passwordResetTtlS: int(env, "PASSWORD_RESET_TTL", 3600, 60),
      /** how long the link confirming a new email address works (once) */
      emailChangeTtlS: int(env, "EMAIL_CHANGE_TTL", 24 * 3600, 60),
      uploadersByDefault: bool(env, "UPLOADERS_BY_DEFAULT", false),
      /** Secure cookies outside development (browsers refuse Secure cookies on plain http://localhost in some setups). */
      secureCookies: bool(env, "SECURE_COOKIES", nodeEnv === "production"),
      /**
       * argon2id cost (OWASP's m=19 MiB, t=2, p=1 by default). NODE_ENV=test lowers it to
       * m=1 MiB, t=1 so suites creating hundreds of accounts stay fast; never use that in production.
       */
      argon2: {
        memoryCostKiB: int(env, "ARGON2_MEMORY_KIB", nodeEnv === "test" ? 1024 : 19456, 64, 4 * 1024 * 1024),
        timeCost: int(env, "ARGON2_TIME_COST", nodeEnv === "test" ? 1 : 2, 1, 100),
        parallelism: int(env, "ARGON2_PARALLELISM", 1, 1, 16),
      },
      /** `createsuperuser`'s password when `--password` is not given (like Django's DJANGO_SUPERUSER_PASSWORD). */
      superuserPassword: optStr(env, "VIDFLUX_SUPERUSER_PASSWORD"),
    },
    cors: { origins: list(env, "CORS_ORIGINS", []) },
    rateLimit: {
      enabled: bool(env, "RATE_LIMIT", true),
      max: int(env, "RATE_LIMIT_MAX", 300, 1),
      windowS: int(env, "RATE_LIMIT_WINDOW", 60, 1),
      authMax: int(env, "AUTH_RATE_LIMIT_MAX", 10, 1),
      authWindowS: int(env, "AUTH_RATE_LIMIT_WINDOW", 60, 1),
      /** per user and minute, when RATE_LIMIT is on (src/apps/reactions/post-limiter.ts) */
      commentsPerMinute: int(env, "COMMENT_RATE_LIMIT", 10, 1),
      reactionsPerMinute: int(env, "REACTION_RATE_LIMIT", 60, 1),
    },
    email: {
      backend: oneOf(env, "EMAIL_BACKEND", ["console", "file", "smtp"] as const, "console"),
      fileDir: path.resolve(str(env, "EMAIL_FILE_PATH", path.join(dataDir, "emails"))),
      from: str(env, "DEFAULT_FROM_EMAIL", "vidflux <no-reply@localhost>"),
      smtp: {
        host: str(env, "SMTP_HOST", "localhost"),
        port: int(env, "SMTP_PORT", 25, 1, 65535),
        user: optStr(env, "SMTP_USER"),
        password: optStr(env, "SMTP_PASSWORD"),
        secure: bool(env, "SMTP_SECURE", false),
      },
    },
    upload: {
      maxSize: size(env, "MAX_UPLOAD_SIZE", 10 * 1024 ** 3),
      simpleMax: size(env, "SIMPLE_UPLOAD_MAX", 100 * 1024 ** 2),
      userQuota: size(env, "USER_VIDEO_QUOTA", 50 * 1024 ** 3),
      maxConcurrentPerUser: int(env, "MAX_CONCURRENT_UPLOADS", 3, 1),
      /** a user's videos uploading, validating, queued or converting at once (429 conversion_queue_full) */
      maxQueuedConversions: int(env, "MAX_QUEUED_CONVERSIONS", 10, 1),
      expiryS: int(env, "UPLOAD_EXPIRY", 24 * 3600, 1),
      sweepIntervalS: int(env, "UPLOAD_SWEEP_INTERVAL", 600, 1),
      maxDurationS: int(env, "MAX_DURATION", 6 * 3600, 1),
      maxResolution: int(env, "MAX_RESOLUTION", 8192, 16),
      acceptedContainers: list(env, "ACCEPTED_CONTAINERS", ["mp4", "mov", "m4v", "mkv", "webm", "avi", "mpegts", "ogg"]),
      probeTimeoutS: int(env, "PROBE_TIMEOUT", 30, 1),
    },
    media: {
      ffmpegPath: optStr(env, "FFMPEG_PATH"),
      ffprobePath: optStr(env, "FFPROBE_PATH"),
      keepOriginals: bool(env, "KEEP_ORIGINALS", true),
      ladder: ladder(env, "LADDER", [240, 480, 720, 1080]),
      maxFps: int(env, "MAX_FPS", 60, 1, 240),
      /** `single`: one ffmpeg decodes once and encodes every rung; `per-rung`: one process per rung. */
      transcodeMode: oneOf(env, "TRANSCODE_MODE", ["single", "per-rung"] as const, "single"),
      hlsSegmentType: oneOf(env, "HLS_SEGMENT_TYPE", ["mpegts", "fmp4"] as const, "mpegts"),
      hlsSegmentS: int(env, "HLS_SEGMENT_SECONDS", 4, 1, 30),
      mp4Renditions: bool(env, "MP4_RENDITIONS", true),
      preset: oneOf(env, "X264_PRESET", ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"] as const, "veryfast"),
      transcodeTimeoutS: int(env, "TRANSCODE_TIMEOUT", 6 * 3600, 1),
      /** memory (VmData) of every ffmpeg child, API (validation) and workers, bytes; 0: none (child-limits.ts) */
      memoryLimitBytes: size(env, "FFMPEG_MEMORY_LIMIT", defaultFfmpegMemoryLimit(availableParallelism())),
      workerConcurrency: int(env, "WORKER_CONCURRENCY", 1, 1, 64),
      tmpDir: path.resolve(str(env, "WORK_DIR", path.join(dataDir, "work"))),
      /** cues per uploaded subtitle track at most (a feature film has ~1,500); more: 413 `too_many_cues` */
      subtitleMaxCues: int(env, "SUBTITLE_MAX_CUES", 20_000, 1, 1_000_000),
    },
    playback: {
      tokenTtlS: int(env, "PLAYBACK_TOKEN_TTL", 6 * 3600, 60),
      viewWindowS: int(env, "VIEW_WINDOW", 3600, 1),
      /**
       * Anonymous views counted per client address (IPv4, or the IPv6 /64) per video per window:
       * a household or NAT still counts a few viewers, a script rotating User-Agents at most this many.
       */
      viewsPerAddress: int(env, "VIEWS_PER_ADDRESS", 10, 1, 1_000_000),
      /** live control (src/apps/playback): per device, messages per second and burst */
      controlRate: int(env, "PLAYBACK_CONTROL_RATE", 10, 1),
      controlBurst: int(env, "PLAYBACK_CONTROL_BURST", 30, 1),
      /** a watch room ends this long after its last member left, s */
      roomIdleTtlS: int(env, "ROOM_IDLE_TTL", 6 * 3600, 1),
      /** a room's `play` waits this long for members still buffering, ms */
      roomWaitTimeoutMs: int(env, "ROOM_WAIT_TIMEOUT_MS", 10_000, 100, 120_000),
      /** continue watching: a playing position is saved at most this often, s */
      historySaveIntervalS: int(env, "HISTORY_SAVE_INTERVAL", 10, 1),
      /** long polling of `GET /api/stream/{id}/state/?since=`: answer after this at the latest, ms */
      longPollMs: int(env, "PLAYBACK_LONG_POLL_MS", 25_000, 100, 120_000),
      /** live devices' presence and their sessions' (and rooms') expiry are refreshed this often, ms; members expire after three missed refreshes */
      heartbeatMs: int(env, "PLAYBACK_HEARTBEAT_MS", 10_000, 100, 600_000),
    },
  };
  return config;
}

export type Config = ReturnType<typeof loadConfig>;

/**
 * In development the HS256 secret is generated once and kept in DATA_DIR so tokens survive a
 * restart; production must set JWT_SECRET (checked in loadConfig).
 */
export function resolveJwtSecret(config: Config): string {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  const file = path.join(config.dataDir, "jwt-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(config.dataDir, { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  writeFileSync(file, secret + "\n", { mode: 0o600, flag: "wx" });
  return secret;
}

/**
 * For the entry points (server, worker, CLI): the configuration, or a one-line message naming
 * the bad variable and exit code 1, instead of a stack trace.
 */
export function loadConfigOrExit(program: string): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${program}: configuration error: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}
