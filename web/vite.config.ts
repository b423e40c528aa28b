/**
 * The web client's build: TypeScript + Preact (TSX) from web/src, two pages (the app at `/`, the
 * bare player at `/embed/{id}`), output in web/dist which the backend serves (src/apps/web).
 * Everything the page loads is bundled or served by us: no CDN, no external font (the CSP says
 * `'self'`).
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "/",
  publicDir: false,
  // Preact's automatic JSX runtime (no React, no preset plugin needed).
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: here("dist"),
    // Old hashed bundles stay: a page loaded before a rebuild still finds its lazy chunks (the
    // server registers the files present at its start; a deploy's old clients keep working).
    emptyOutDir: false,
    target: "es2022",
    sourcemap: true,
    // .vite/manifest.json names this build's files: the size report measures those, not the
    // older bundles kept beside them.
    manifest: true,
    // The size goal (docs/design.md) is checked by a test on the real output; hls.js is its own chunk.
    chunkSizeWarningLimit: 700,
    rollupOptions: {
      input: { index: here("index.html"), embed: here("embed.html") },
      output: {
        manualChunks(id: string) {
          if (id.includes("node_modules/hls.js")) return "hls";
          return undefined;
        },
      },
    },
  },
});
