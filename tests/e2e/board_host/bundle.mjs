// Bundle host.js (ext-apps AppBridge + TypeScript SDK client) into OUT_DIR/host.js, resolving
// packages from views/board/node_modules (installed by `make board-deps`).
import { copyFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const packages = join(here, "..", "..", "..", "views", "board", "node_modules");
const { build } = createRequire(join(packages, "..", "package.json"))("esbuild");
const outDir = resolve(process.argv[2]);
await build({
  entryPoints: [join(here, "host.js")],
  outfile: join(outDir, "host.js"),
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2022",
  nodePaths: [packages],
  logLevel: "warning",
});
await copyFile(join(here, "host.html"), join(outDir, "index.html"));
