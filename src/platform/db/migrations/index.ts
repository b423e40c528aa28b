/**
 * The ordered list of migrations. Imported statically (not read from a folder at run time) so the
 * compiled build and the tests see the same set. Add new files here, never rename old ones.
 */
import type { Migration } from "kysely";
import * as m0001 from "./0001-users.js";
import * as m0002 from "./0002-videos.js";
import * as m0003 from "./0003-jobs.js";
import * as m0004 from "./0004-uploads.js";
import * as m0005 from "./0005-reactions.js";
import * as m0006 from "./0006-playback.js";
import * as m0007 from "./0007-fair-sharing.js";
import * as m0008 from "./0008-sessions.js";

export const migrations: Record<string, Migration> = {
  "0001-users": m0001,
  "0002-videos": m0002,
  "0003-jobs": m0003,
  "0004-uploads": m0004,
  "0005-reactions": m0005,
  "0006-playback": m0006,
  "0007-fair-sharing": m0007,
  "0008-sessions": m0008,
};
