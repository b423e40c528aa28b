import { randomUUID } from "node:crypto";

/** UUIDv4: 122 random bits, so unlisted video ids are unguessable. */
export const newId = (): string => randomUUID();

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const nowIso = (): string => new Date().toISOString();
