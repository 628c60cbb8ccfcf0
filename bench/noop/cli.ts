/**
 * `node dist/bundle/bench-noop.js run FILE` (this file after scripts/bundle.mjs; dist/bench/noop/cli.js
 * unbundled): the engine's run verb with the benchmark application, loaded lazily as the fancl
 * launcher loads its verbs.
 */
const [verb, ...rest] = process.argv.slice(2);
if (verb !== "run") {
  process.stderr.write(`usage: node dist/bundle/bench-noop.js run FILE [options]\n`);
  process.exit(2);
}
const [{ makeRunCommand }, { benchApplication }] = await Promise.all([import("../../dag/cli/run.js"), import("./app.js")]);
process.exitCode = await makeRunCommand(benchApplication).run(rest);
