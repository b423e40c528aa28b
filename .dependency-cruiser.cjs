/**
 * The import rules of the code base (docs/design.md, "Layers and faces"), checked by
 * `npm run lint`. Type-only imports count: a circle through types is still a circle a newcomer
 * has to untangle, and it was one (`import type { App } from "../../app.js"`) that put app.ts
 * inside a 14-file circle.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import circles anywhere in src/, type-only imports included.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "domain-through-its-face",
      severity: "error",
      comment: "A domain imports another domain only through that domain's index.ts.",
      from: { path: "^src/apps/([^/]+)/", pathNot: "\\.(test|e2e\\.test|fixtures)\\.ts$" },
      to: { path: "^src/apps/", pathNot: ["^src/apps/$1/", "^src/apps/[^/]+/index\\.ts$"] },
    },
    {
      name: "domain-tests-through-faces-or-fixtures",
      severity: "error",
      comment: "A domain's tests and fixtures use another domain's face, or its fixtures (they build the same rows its tests do).",
      from: { path: "^src/apps/([^/]+)/[^/]+\\.(test|e2e\\.test|fixtures)\\.ts$" },
      to: { path: "^src/apps/", pathNot: ["^src/apps/$1/", "^src/apps/[^/]+/index\\.ts$", "^src/apps/[^/]+/[^/]+\\.fixtures\\.ts$"] },
    },
    {
      name: "outside-through-faces",
      severity: "error",
      comment: "Code outside the domains (composition root, app, CLI, tests' harness) uses a domain's face only.",
      from: { path: "^(src/[^/]+\\.ts$|src/cli/|src/test/)" },
      to: { path: "^src/apps/[^/]+/", pathNot: "^src/apps/[^/]+/index\\.ts$" },
    },
    {
      name: "bench-through-faces",
      severity: "error",
      comment: "The benchmarks use a domain's face, or its test fixtures (they build the same data the tests do).",
      from: { path: "^bench/" },
      to: { path: "^src/apps/[^/]+/", pathNot: ["^src/apps/[^/]+/index\\.ts$", "^src/apps/[^/]+/[^/]+\\.fixtures\\.ts$"] },
    },
    {
      name: "platform-imports-no-domain",
      severity: "error",
      comment: "Adapters (src/platform) never depend on domains, workers, the app or the composition root.",
      from: { path: "^src/platform/" },
      to: { path: "^src/(apps|services|app\\.ts|composition\\.ts|context\\.ts|server\\.ts|worker\\.ts|cli)" },
    },
    {
      name: "lib-and-contracts-are-leaves",
      severity: "error",
      comment: "src/lib and src/contracts are used by everyone and use no domain, worker or adapter factory.",
      from: { path: "^src/(lib|contracts)/" },
      to: { path: "^src/(apps|services|app\\.ts|composition\\.ts|context\\.ts|server\\.ts|worker\\.ts|cli)" },
    },
    {
      name: "contracts-use-no-adapter",
      severity: "error",
      comment: "Messages between processes are plain data: they may name the probe's types, nothing else of the platform.",
      from: { path: "^src/contracts/" },
      to: { path: "^src/platform/", pathNot: "^src/platform/media/media\\.types\\.ts$" },
    },
    {
      name: "workers-never-see-the-database",
      severity: "error",
      comment: "Conversion workers get jobs in and send storage objects and messages out: no database, no domain.",
      from: { path: "^src/services/" },
      to: { path: "^src/(apps|platform/db|app\\.ts|composition\\.ts|context\\.ts)" },
    },
    {
      name: "domains-use-worker-faces",
      severity: "error",
      comment: "A domain uses a worker service only through its index.ts (shared message types live in src/contracts).",
      from: { path: "^src/apps/" },
      to: { path: "^src/services/[^/]+/", pathNot: "^src/services/[^/]+/index\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist|public|web/dist)" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
