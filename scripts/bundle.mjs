/**
 * Bundles the compiled command lines (dist/stages/cli/main.js and the no-op benchmark's
 * dist/bench/noop/cli.js) into dist/bundle/, run by `npm run build` after tsc.
 *
 * A cached rerun does almost no work, so its time is Node's start plus module loading. Loading the
 * run verb from the many small modules of dist/ and node_modules/effect took about 160 ms here, and
 * the bundle halves the time of a fully cached `fancl run` (docs/benchmarks.md, section noop).
 *
 * Node built-ins and every package except `effect` and `yaml` stay outside the bundle.
 * TensorFlow.js, its WASM backend and nifti-reader-js load lazily in the stages that need them,
 * and sqlite3 is a native addon. Worker processes still load the unbundled dist/ modules through
 * the application's registryModule.
 *
 * `import.meta.url` in a bundled module would name the bundle's chunk, not the module's own file,
 * and paths derived from it (the worker script, the stage registry, createRequire) would break.
 * The plugin below rewrites each `import.meta.url` to the URL of the module's file under dist/.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(repo, "dist");
const outDir = path.join(dist, "bundle");
const bundled = new Set(["effect", "yaml"]);

/** Returns a bare specifier's package name: `effect/Schema` → `effect`, `@tensorflow/tfjs` → `@tensorflow/tfjs`. */
function packageName(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

const keepModuleUrls = {
  name: "keep-module-urls",
  transform(code, id) {
    if (!id.startsWith(dist + path.sep) || !code.includes("import.meta.url")) return null;
    const relative = path.relative(outDir, id).split(path.sep).join("/");
    const ownUrl = `new URL(${JSON.stringify(relative)}, import.meta.url).href`;
    return { code: code.replaceAll("import.meta.url", ownUrl), map: null };
  },
};

await build({
  input: {
    fancl: path.join(dist, "stages/cli/main.js"),
    "bench-noop": path.join(dist, "bench/noop/cli.js"),
  },
  platform: "node",
  external: (id) => {
    if (id.startsWith("node:")) return true;
    if (id.startsWith(".") || path.isAbsolute(id)) return false;
    return !bundled.has(packageName(id));
  },
  plugins: [keepModuleUrls],
  logLevel: "warn",
  output: {
    dir: outDir,
    format: "esm",
    entryFileNames: "[name].js",
    // Chunks sit beside the entries because the rewritten URLs are relative to outDir.
    chunkFileNames: "[name]-[hash].js",
    cleanDir: true,
  },
});
