/**
 * Command-line options shared by every engine verb (run, plan, runs, show, gc, index), the
 * per-verb help text, and the `Command` shape the CLI dispatcher calls.
 */
import { didYouMean } from "../experiment/suggest.js";

/** One CLI verb (same shape as the application's commands): `run` returns the exit code. */
export interface Command {
  readonly name: string;
  /** One line for the top-level help. */
  readonly summary: string;
  /** The full text printed by `VERB --help`. */
  readonly usage: string;
  run(argv: readonly string[]): Promise<number>;
}

/** A bad command line; the verb prints the message and exits with 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The global options as parsed; one that a verb does not honour keeps its default here. */
export interface GlobalOptions {
  /** Store root folder (`--store`, default `runs`). */
  readonly store: string;
  /** Most nodes run at once (`--jobs N`); undefined lets the runtime choose. */
  readonly jobs: number | undefined;
  /** Show what would run, run nothing (`--dry-run`). */
  readonly dryRun: boolean;
  /** Stage kinds to recompute even when cached (`--force KIND`, repeatable). */
  readonly force: readonly string[];
  /** After a failure, let independent branches finish (`--keep-going`). */
  readonly keepGoing: boolean;
  /** Config overrides `a.b=value`, in command-line order (`--set`, repeatable). */
  readonly set: readonly string[];
  /** GPU device ids to lease (`--gpus 0,1`); undefined: the runtime detects them; empty: none. */
  readonly gpus: readonly number[] | undefined;
  /** Print the verb's help and exit (`--help`, `-h`). */
  readonly help: boolean;
}

/** An option a verb adds to the global ones. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** Repeatable: values collect into a list. */
  readonly multiple?: boolean;
  /** Placeholder shown in help, e.g. `KIND`. */
  readonly value?: string;
  readonly description: string;
}

/** A verb's command-line shape: its name, positional arguments and extra options. */
export interface VerbSpec {
  readonly name: string;
  readonly summary: string;
  /** Positional arguments as shown in help, e.g. `FILE` or `[KEY]`. */
  readonly arguments: string;
  /** Minimum number of positional arguments; default 0. */
  readonly minPositionals?: number;
  /** Maximum number of positional arguments; default unbounded. */
  readonly maxPositionals?: number;
  /** Paragraph printed under the usage line. */
  readonly description?: string;
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /**
   * The global options this verb honours besides `--store` and `--help`, which every verb takes.
   * Help lists only these, and the parser rejects the others, so that an option the verb would
   * ignore (`fancl runs --jobs 4`) is an error instead of silently doing nothing.
   */
  readonly globals?: readonly GlobalOptionName[];
}

/** The global options a verb may choose to honour. */
export type GlobalOptionName = "jobs" | "dry-run" | "force" | "keep-going" | "set" | "gpus";

export type OptionValue = string | boolean | readonly string[] | undefined;

export interface ParsedCommandLine {
  readonly global: GlobalOptions;
  /** The verb's own options by name; repeatable ones are lists (empty when absent). */
  readonly options: Readonly<Record<string, OptionValue>>;
  readonly positionals: readonly string[];
}

const globalSpecs: Readonly<Record<"store" | GlobalOptionName | "help", OptionSpec>> = {
  store: { type: "string", value: "DIR", description: "store folder (default: runs)" },
  jobs: { type: "string", value: "N", description: "run at most N nodes at once" },
  "dry-run": { type: "boolean", description: "show what the verb would do (run or delete), change nothing" },
  force: { type: "string", multiple: true, value: "KIND", description: "recompute nodes of this stage kind even when cached (repeatable)" },
  "keep-going": { type: "boolean", description: "after a failure, let independent nodes finish" },
  set: { type: "string", multiple: true, value: "a.b=VALUE", description: "override a config key; VALUE is read as YAML (repeatable)" },
  gpus: { type: "string", value: "0,1", description: "GPU ids to use (default: all detected; empty: none)" },
  help: { type: "boolean", description: "print this help" },
};

/**
 * Parses `argv` (the arguments after the verb): `--name value`, `--name=value`, `-h`, and `--`
 * to end options. Throws a `UsageError` for an unknown option (with did-you-mean), a global
 * option the verb does not honour (see `VerbSpec.globals`), a missing value, a bad `--jobs`/`--gpus`/`--set`, or a wrong number of positional arguments. With
 * `--help` the positional count is not checked.
 */
export function parseCommandLine(verb: VerbSpec, argv: readonly string[]): ParsedCommandLine {
  const specs: Record<string, OptionSpec> = { ...honouredGlobals(verb), ...verb.options };
  const values = new Map<string, string | boolean | string[]>();
  const positionals: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      values.set("help", true);
      continue;
    }
    if (!arg.startsWith("--") || arg === "-") {
      if (arg.startsWith("-") && arg !== "-") throw new UsageError(`${verb.name}: unknown option "${arg}"; options are spelt --name (see ${verb.name} --help)`);
      positionals.push(arg);
      continue;
    }

    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const spec = specs[name];
    if (spec === undefined && name in globalSpecs) {
      const accepted = Object.keys(specs).map((option) => `--${option}`).join(", ");
      throw new UsageError(`${verb.name}: option --${name} does not apply to fancl ${verb.name}, which takes only ${accepted} (see ${verb.name} --help)`);
    }
    if (spec === undefined) {
      throw new UsageError(`${verb.name}: unknown option "--${name}"${didYouMean(name, Object.keys(specs)).replace(/"([^"]+)"/, '"--$1"')}`);
    }
    let value: string | boolean;
    if (spec.type === "boolean") {
      if (eq >= 0) throw new UsageError(`${verb.name}: option --${name} takes no value, found "${arg.slice(eq + 1)}"`);
      value = true;
    } else if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) {
        throw new UsageError(`${verb.name}: option --${name} needs a value: --${name} ${spec.value ?? "VALUE"}`);
      }
      value = next;
      i++;
    }
    if (spec.multiple === true) {
      const list = (values.get(name) as string[] | undefined) ?? [];
      list.push(value as string);
      values.set(name, list);
    } else {
      values.set(name, value);
    }
  }

  const help = values.get("help") === true;
  const global: GlobalOptions = {
    store: (values.get("store") as string | undefined) ?? "runs",
    jobs: parseJobs(verb.name, values.get("jobs") as string | undefined),
    dryRun: values.get("dry-run") === true,
    force: (values.get("force") as string[] | undefined) ?? [],
    keepGoing: values.get("keep-going") === true,
    set: checkSets(verb.name, (values.get("set") as string[] | undefined) ?? []),
    gpus: parseGpus(verb.name, values.get("gpus") as string | undefined),
    help,
  };

  if (!help) {
    const least = verb.minPositionals ?? 0;
    const most = verb.maxPositionals ?? Infinity;
    if (positionals.length < least || positionals.length > most) {
      const found = positionals.length === 0 ? "none" : positionals.map((p) => `"${p}"`).join(" ");
      throw new UsageError(`${verb.name}: expected ${verb.arguments || "no arguments"}, found ${found} (see ${verb.name} --help)`);
    }
  }

  const options: Record<string, OptionValue> = {};
  for (const [name, spec] of Object.entries(verb.options ?? {})) {
    const given = values.get(name);
    if (given !== undefined) options[name] = given;
    else if (spec.multiple === true) options[name] = [];
    else if (spec.type === "boolean") options[name] = false;
    else options[name] = undefined;
  }
  return { global, options, positionals };
}

/** Builds a verb's `--help` text: usage line, description, its own options, then the global ones. */
export function usageText(verb: VerbSpec): string {
  const line = (name: string, spec: OptionSpec): string => {
    const left = `  --${name}${spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : ""}`;
    return `${left.padEnd(26)} ${spec.description}`;
  };
  const parts = [`usage: fancl ${verb.name} [options]${verb.arguments ? ` ${verb.arguments}` : ""}`, "", verb.summary];
  if (verb.description !== undefined) parts.push("", verb.description);
  const own = Object.entries(verb.options ?? {});
  if (own.length > 0) parts.push("", "options:", ...own.map(([name, spec]) => line(name, spec)));
  parts.push("", "global options:", ...Object.entries(honouredGlobals(verb)).map(([name, spec]) => line(name, spec)));
  return `${parts.join("\n")}\n`;
}

/**
 * Runs a verb's body with the parsed command line: prints help for `--help` (exit 0), and
 * prints the message of a `UsageError`, or of any error named "UsageError", (exit 2) instead of
 * throwing it.
 */
export async function runVerb(
  verb: VerbSpec,
  argv: readonly string[],
  body: (parsed: ParsedCommandLine) => Promise<number>,
  io: { readonly out: (text: string) => void; readonly err: (text: string) => void } = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  },
): Promise<number> {
  try {
    const parsed = parseCommandLine(verb, argv);
    if (parsed.global.help) {
      io.out(usageText(verb));
      return 0;
    }
    return await body(parsed);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n`);
      return 2;
    }
    // Errors of other layers that mean a bad command line carry the name (the store's MissingStoreError).
    if (error instanceof Error && error.name === "UsageError") {
      io.err(`${verb.name}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** Makes a verb's Command: its help text from the spec, and `runVerb` around the body. */
export function verbCommand(
  verb: VerbSpec,
  body: (parsed: ParsedCommandLine) => Promise<number>,
  io?: { readonly out: (text: string) => void; readonly err: (text: string) => void },
): Command {
  return {
    name: verb.name,
    summary: verb.summary,
    usage: usageText(verb),
    run: (argv) => runVerb(verb, argv, body, io),
  };
}

/** `--store`, the global options `verb.globals` names, and `--help`, in the order help lists them. */
function honouredGlobals(verb: VerbSpec): Record<string, OptionSpec> {
  const honoured = new Set<string>(["store", ...(verb.globals ?? []), "help"]);
  return Object.fromEntries(Object.entries(globalSpecs).filter(([name]) => honoured.has(name)));
}

function parseJobs(verb: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text)) throw new UsageError(`${verb}: --jobs must be a positive whole number, found "${text}"`);
  return Number(text);
}

function parseGpus(verb: string, text: string | undefined): readonly number[] | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === "") return [];
  const ids = text.split(",").map((part) => part.trim());
  for (const id of ids) {
    if (!/^[0-9]+$/.test(id)) throw new UsageError(`${verb}: --gpus takes device ids separated by commas (e.g. 0,1), found "${text}"`);
  }
  return ids.map(Number);
}

function checkSets(verb: string, sets: string[]): string[] {
  for (const set of sets) {
    const eq = set.indexOf("=");
    if (eq <= 0) throw new UsageError(`${verb}: --set needs KEY=VALUE with a dotted key (e.g. --set a.b=1), found "${set}"`);
  }
  return sets;
}
