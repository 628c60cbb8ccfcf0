/**
 * Builds native/, a Node-API addon with 3-D convolution kernels and a fused instance norm, with
 * node-gyp; `npm run build` runs it after tsc. The addon is optional: where no C++ compiler, make
 * or Node headers are found, this prints one warning and exits 0, and training uses the WASM
 * kernels. Set FANCL_SKIP_NATIVE=1 to skip the build.
 *
 * node-gyp comes with npm. Node's headers are taken from npm's `nodedir` setting when set, else
 * from the include/node folder of this Node's installation, because node-gyp would otherwise
 * try to download them.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const native = path.join(repo, "native");

/** Returns the path of node-gyp's entry script, or undefined when none is found. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), "../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"),
  ];
  try {
    candidates.push(createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js"));
  } catch {
    // node-gyp is not a package of this project; the copy inside npm is used.
  }
  return candidates.find((candidate) => candidate !== undefined && existsSync(candidate));
}

/** Returns the folder whose include/node contains Node's headers, or undefined. */
function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), "..");
  return existsSync(path.join(prefix, "include/node/node_api.h")) ? prefix : undefined;
}

function skip(reason) {
  console.warn(`fancl: native kernels not built (${reason}); training uses the slower WASM kernels`);
  process.exit(0);
}

if (process.env.FANCL_SKIP_NATIVE === "1") skip("FANCL_SKIP_NATIVE=1");
const nodeGyp = findNodeGyp();
if (nodeGyp === undefined) skip("node-gyp not found");
const nodeDir = findNodeDir();
if (nodeDir === undefined) skip("Node's headers (include/node/node_api.h) not found");

const result = spawnSync(process.execPath, [nodeGyp, "rebuild", `--nodedir=${nodeDir}`], {
  cwd: native,
  encoding: "utf8",
});
if (result.status !== 0) {
  // The compiler's and make's lines, and node-gyp's error itself; not its environment report.
  const lines = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n");
  const cause = lines.filter(
    (line) => !line.startsWith("gyp ") || /^gyp ERR! (stack Error|configure error|build error)/.test(line),
  );
  // Compiler errors come first and a Python traceback ends with its cause: keep both ends.
  console.warn((cause.length > 12 ? [...cause.slice(0, 4), "...", ...cause.slice(-8)] : cause).join("\n"));
  skip(`node-gyp exited with ${result.status ?? result.signal}`);
}
console.log(`fancl: native kernels built (native/build/Release/fancl_native.node)`);
