#!/usr/bin/env node
// Thin launcher: `npm run build` compiles the CLI to dist/ and bundles it into dist/bundle/.
import { main } from "../dist/bundle/fancl.js";

// A reader that stops early (`fancl plan FILE --json | head -1`) closes the pipe. Like other
// Unix tools, stop quietly then instead of dying on an unhandled EPIPE with a stack trace. A run
// in progress listens for SIGINT: it is stopped as Ctrl-C stops it, so that its workers, tmp
// folders and locks are cleaned up, and it exits with 130.
let pipeClosed = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    // Once a pipe is closed, later writes fail too (EPIPE or ERR_STREAM_DESTROYED): drop them.
    if (pipeClosed) return;
    if (error.code !== "EPIPE") throw error;
    pipeClosed = true;
    if (process.listenerCount("SIGINT") > 0) {
      process.emit("SIGINT", "SIGINT");
      return;
    }
    process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
