/**
 * Decoding with Effect Schema, and its issues flattened into one problem per offending key,
 * with a did-you-mean suggestion for unknown keys.
 */
import * as SchemaAST from "effect/SchemaAST";
import * as SchemaIssue from "effect/SchemaIssue";
import type * as Schema from "effect/Schema";
import * as SchemaParser from "effect/SchemaParser";
import * as Result from "effect/Result";
import { didYouMean } from "./suggest.js";

/** A path into a decoded value: object keys and array indices. */
export type ValuePath = readonly (string | number)[];

/** One thing wrong with a value, at one path. */
export interface Problem {
  readonly path: ValuePath;
  /**
   * `unknownKey`: the key at `path` is not in the schema (its position is the key's);
   * `missingKey`: a required key is absent (its position is the enclosing map's);
   * `invalid`: the value at `path` has the wrong type or fails a check.
   */
  readonly kind: "unknownKey" | "missingKey" | "invalid";
  /** Sentence fragment without location, e.g. `expected number, got "abc"`. */
  readonly message: string;
}

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly Problem[] };

/** Every schema a stage or an application declares decodes synchronously with no services. */
export type AnyDecoder<T> = Schema.Decoder<T, never>;

const parseOptions = { errors: "all", onExcessProperty: "error", reportInput: true } as const;

/**
 * Decodes `input` with `schema`, filling defaults, rejecting keys the schema does not declare,
 * and collecting every problem rather than the first.
 */
export function decodeAll<T>(schema: AnyDecoder<T>, input: unknown, options?: DecodeOptions): Decoded<T> {
  const result = SchemaParser.decodeUnknownResult(schema)(input, parseOptions);
  if (Result.isSuccess(result)) return { ok: true, value: result.success };
  return { ok: false, problems: flatten(result.failure, [], options?.rootKeys ?? []) };
}

export interface DecodeOptions {
  /** Keys allowed at the root besides the schema's, offered as suggestions for unknown root keys. */
  readonly rootKeys?: readonly string[];
}

/** `a.b[2].c` for a value path; `(root)` for the empty path. */
export function formatPath(path: ValuePath): string {
  if (path.length === 0) return "(root)";
  let text = "";
  for (const part of path) {
    if (typeof part === "number") text += `[${part}]`;
    else text += text === "" ? part : `.${part}`;
  }
  return text;
}

const standardFormatter = SchemaIssue.makeFormatterStandardSchemaV1();

function lowerFirst(message: string): string {
  return message.length > 0 ? message[0]!.toLowerCase() + message.slice(1) : message;
}

function asPath(keys: readonly PropertyKey[]): (string | number)[] {
  return keys.map((key) => (typeof key === "number" ? key : String(key)));
}

function flatten(issue: SchemaIssue.Issue, path: ValuePath, rootKeys: readonly string[]): Problem[] {
  switch (issue._tag) {
    case "Pointer":
      return flatten(issue.issue, [...path, ...asPath(issue.path)], rootKeys);
    case "Composite":
      return issue.issues.flatMap((inner) => flatten(inner, path, rootKeys));
    case "AnyOf":
      if (issue.issues.length > 0 && issue.issues.every((inner) => inner._tag !== "InvalidType")) {
        return issue.issues.flatMap((inner) => flatten(inner, path, rootKeys));
      }
      break;
    case "Encoding":
      return flatten(issue.issue, path, rootKeys);
    case "UnexpectedKey": {
      const last = path[path.length - 1];
      if (typeof last === "number") return [{ path, kind: "unknownKey", message: `unexpected entry [${last}]: the list is too long` }];
      const key = last === undefined ? "" : String(last);
      const known = SchemaAST.isObjects(issue.ast) ? issue.ast.propertySignatures.map((p) => String(p.name)) : [];
      if (path.length === 1) known.push(...rootKeys);
      return [{ path, kind: "unknownKey", message: `unknown key "${key}"${didYouMean(key, known)}` }];
    }
    case "MissingKey": {
      const last = path[path.length - 1];
      if (typeof last === "number") return [{ path, kind: "missingKey", message: `missing entry [${last}]: the list is too short` }];
      return [{ path, kind: "missingKey", message: "missing required key" }];
    }
    default:
      break;
  }
  return standardFormatter(issue).issues.map((entry) => ({
    path: [...path, ...asPath((entry.path ?? []).map((p) => (typeof p === "object" ? p.key : p)))],
    kind: "invalid" as const,
    message: lowerFirst(entry.message),
  }));
}
