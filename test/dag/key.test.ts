import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { FileDigest } from "../../dag/key.js";
import { CanonicalJsonError, canonicalJson, digestFile, nodeKey } from "../../dag/key.js";

describe("canonicalJson", () => {
  it("sorts keys at every level and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, 2], c: "x" } })).toBe('{"a":{"c":"x","d":[3,1,2]},"b":1}');
  });

  it("writes numbers in shortest round-trip form", () => {
    expect(canonicalJson([1.0, 0.1, 1e-7, 1e21, -0, 2.5e-3])).toBe("[1,0.1,1e-7,1e+21,0,0.0025]");
  });

  it("drops undefined fields", () => {
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
  });

  it("rejects NaN and Infinity with the path of the value", () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow("$.a[1]");
    expect(() => canonicalJson({ lr: Number.POSITIVE_INFINITY })).toThrow("$.lr");
  });

  it("rejects objects that are not plain data", () => {
    expect(() => canonicalJson({ when: new Date(0) })).toThrow("cannot hash a Date at $.when");
    expect(() => canonicalJson({ f: () => 1 })).toThrow("cannot hash a function");
  });
});

describe("nodeKey", () => {
  const digest = "a".repeat(64) as FileDigest;

  it("is the SHA-256 of the canonical JSON of kind, version, params and inputs", () => {
    // Expected: python3 hashlib.sha256 of the hand-written canonical text
    // {"inputs":{"image":"aaa…a"},"kind":"toy","params":{"a":1,"b":[2,"x"]},"version":"1"}
    const key = nodeKey({ kind: "toy", version: "1", params: { b: [2, "x"], a: 1.0 }, inputs: { image: digest } });
    expect(key).toBe("8a674ef938233b692af823c869be38c9a551683e6ec0fe13412d39d1d670f5e7");
  });

  it("does not depend on the order params were written in", () => {
    const one = nodeKey({ kind: "toy", version: "1", params: { a: 1, b: { c: 2, d: 3 } }, inputs: {} });
    const two = nodeKey({ kind: "toy", version: "1", params: { b: { d: 3, c: 2 }, a: 1 }, inputs: {} });
    expect(one).toBe(two);
  });

  it("changes with the version, the kind, a param or an input", () => {
    const base = { kind: "toy", version: "1", params: { a: 1 }, inputs: { image: digest } };
    const keys = new Set([
      nodeKey(base),
      nodeKey({ ...base, version: "2" }),
      nodeKey({ ...base, kind: "other" }),
      nodeKey({ ...base, params: { a: 2 } }),
      nodeKey({ ...base, inputs: { image: "b".repeat(64) as FileDigest } }),
    ]);
    expect(keys.size).toBe(5);
  });

  it("keeps the order of a list input", () => {
    const a = "a".repeat(64) as FileDigest;
    const b = "b".repeat(64) as FileDigest;
    expect(nodeKey({ kind: "toy", version: "1", params: {}, inputs: { xs: [a, b] } })).not.toBe(
      nodeKey({ kind: "toy", version: "1", params: {}, inputs: { xs: [b, a] } }),
    );
  });
});

describe("digestFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "fancl-key-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is the SHA-256 of the file's bytes", async () => {
    const file = join(dir, "hello.txt");
    writeFileSync(file, "hello\n");
    // python3 -c "import hashlib; print(hashlib.sha256(b'hello\n').hexdigest())"
    expect(await digestFile(file)).toBe("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
  });

  it("names the file it cannot read", async () => {
    await expect(digestFile(join(dir, "missing.bin"))).rejects.toThrow(`cannot read ${join(dir, "missing.bin")}`);
  });
});
