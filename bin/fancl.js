#!/usr/bin/env node
// Thin launcher: `npm run build` compiles the CLI to dist/ and bundles it into dist/bundle/.
import { main } from "../dist/bundle/fancl.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
