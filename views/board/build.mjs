// Bundle the board (src/) with @modelcontextprotocol/ext-apps into ONE self-contained HTML
// file: inline script and style, no external reference, so the resource needs no network.
//
//   node build.mjs                 write ../../app/views/board.html and print its size
//   node build.mjs --out FILE      write FILE instead (the staleness test builds elsewhere)
//
// Deterministic: same sources and same pinned esbuild give the same bytes (no timestamps,
// no absolute paths, no source maps), so a test can compare a fresh build with the commit.
import { build } from "esbuild";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outAt = args.indexOf("--out");
const out = outAt >= 0 ? resolve(args[outAt + 1]) : join(here, "..", "..", "app", "views", "board.html");

// zod's namespace export `z` (which ext-apps and the SDK import whole) re-exports every locale
// bundle, and a namespace object defeats tree shaking: ~260 KB of error messages in forty
// languages. The board only ever shows English, zod's built-in default, so the locale index
// resolves to English alone.
const englishOnly = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (a) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(a.importer)
        ? { path: join(dirname(a.importer), a.path.replace(/index\.js$/, "en.js")), namespace: "zod-locales" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-locales" }, (a) => ({
      contents: `export { default as en } from ${JSON.stringify(a.path)};`,
      resolveDir: dirname(a.path),
      loader: "js",
    }));
  },
};

const bundle = await build({
  absWorkingDir: here,
  entryPoints: ["src/board.js"],
  bundle: true,
  plugins: [englishOnly],
  write: false,
  minify: true,
  format: "iife",
  target: "es2022",
  platform: "browser",
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
});
const css = await build({
  absWorkingDir: here,
  entryPoints: ["src/board.css"],
  bundle: true,
  write: false,
  minify: true,
  logLevel: "warning",
});

// "</script" or "<!--" inside the script would end it early in an HTML parser.
const js = bundle.outputFiles[0].text.trim().replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
const style = css.outputFiles[0].text.trim().replace(/<\/(style)/gi, "<\\/$1");
// The markup is folded onto one line (a run of white space renders as one space; the page has
// no <pre>, and its textarea starts empty): smaller, and the shipped page is not a second copy
// of the source to keep in step by hand.
const template = (await readFile(join(here, "src", "board.html"), "utf8")).replace(/\s*\n\s*/g, " ").trim() + "\n";
const html = template.replace("/*INLINE_CSS*/", () => style).replace("/*INLINE_JS*/", () => js);
if (html === template || html.includes("/*INLINE_")) throw new Error("board.html template lost its placeholders");

await writeFile(out, html);
const bytes = Buffer.byteLength(html);
const gz = gzipSync(html, { level: 9 }).length;
console.log(`board: ${relative(process.cwd(), out) || out} ${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB, gzip ${(gz / 1024).toFixed(1)} KiB)`);
