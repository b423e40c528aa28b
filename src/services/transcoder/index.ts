/**
 * The transcoder's public face: the `video.transcode` job handler the composition root registers,
 * and the pure HLS helpers the API side shares with it (the videos domain rewrites the master
 * playlist and writes subtitle renditions when a subtitle is uploaded after conversion, with the
 * same builders the worker used). The job's messages themselves live in src/contracts/.
 */
export { createTranscodeHandler, type TranscodeHandlerDeps } from "./transcode.job.js";
export { TranscodeError } from "../../contracts/transcode.messages.js";
export { mpegtsFirstPts, subtitlePlaylist, withTimestampMap } from "./extras.js";
export { languageName, toBcp47, UNDETERMINED } from "./languages.js";
export { buildMasterFromResult, type MasterSubtitleTrack } from "./master.js";
export { parseMediaPlaylist } from "./playlists.js";
export { buildLadder } from "./ladder.js";
