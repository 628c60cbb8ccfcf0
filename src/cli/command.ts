/** One CLI verb. `run` gets the arguments after the verb and returns the exit code. */
export interface Command {
  readonly name: string;
  /** One line for `fancl --help`. */
  readonly summary: string;
  /** The full text printed by `fancl VERB --help`. */
  readonly usage: string;
  run(argv: readonly string[]): Promise<number>;
}

/** A bad command line or input file; the CLI prints the message and exits with 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
