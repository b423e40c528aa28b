import { mediaContract } from "./media.contract.js";
import { bundledMediaTools, systemMediaTools } from "./media-tools.js";

mediaContract("system", async () => {
  const t = await systemMediaTools();
  if (!t) throw new Error("no ffmpeg/ffprobe on PATH");
  return t;
});

mediaContract("bundled", bundledMediaTools);
