import { describe, expect, it } from "vitest";
import type { GraphNode } from "../../dag/graph.js";
import type { NodeKey } from "../../dag/key.js";
import { NodeFailed } from "../../dag/runner/errors.js";
import { formatDuration, PlainReporter, reporterFor, TtyReporter } from "../../dag/runner/reporter.js";

const node: GraphNode = {
  key: "0123456789abcdef".repeat(4) as NodeKey,
  kind: "train",
  version: "1",
  params: {},
  inputs: {},
  labels: ["fold0", "fold0-again"],
  tags: {},
  resources: { cpu: 1, gpus: 1, gpuMemoryMiB: 1000 },
};

function collect(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, sink: { isTTY, columns: 120, write: (text: string) => chunks.push(text) } };
}

describe("PlainReporter", () => {
  it("prints one line per event", () => {
    const { chunks, sink } = collect(false);
    const reporter = reporterFor(sink);
    expect(reporter).toBeInstanceOf(PlainReporter);
    reporter.nodeStarted(node, "cuda:1");
    reporter.nodeProgress(node, 0.05);
    reporter.nodeProgress(node, 0.07);
    reporter.nodeProgress(node, 0.52, "epoch 5/10");
    reporter.nodeFinished(node, 61_500, "cuda:1");
    expect(chunks).toEqual([
      "start  0123456789ab  train  fold0 (+1)  on cuda:1\n",
      "       0123456789ab  train  fold0 (+1)  5%\n",
      "       0123456789ab  train  fold0 (+1)  52%  epoch 5/10\n",
      "done   0123456789ab  train  fold0 (+1)  1m02s  on cuda:1\n",
    ]);
  });

  it("prints failures with stderr tail", () => {
    const { chunks, sink } = collect(false);
    new PlainReporter(sink).nodeFailed(node, new NodeFailed({ key: node.key, kind: "train", message: "out of memory", stderrTail: ["a", "b"] }), 1500);
    expect(chunks.join("")).toBe(
      `failed 0123456789ab  train  fold0 (+1)  after 1.5s: out of memory\n  last 2 line(s) of stderr of node ${node.key}:\n  | a\n  | b\n`,
    );
  });
});

describe("TtyReporter", () => {
  it("redraws progress bars in place", async () => {
    const { chunks, sink } = collect(true);
    const reporter = reporterFor(sink);
    expect(reporter).toBeInstanceOf(TtyReporter);
    reporter.nodeStarted(node, undefined);
    reporter.nodeProgress(node, 0.5, "half");
    // Redraws are throttled to ten a second; let the pending one happen.
    await new Promise((resolve) => setTimeout(resolve, 150));
    reporter.nodeFinished(node, 10, undefined);
    reporter.close();

    const text = chunks.join("");
    expect(text).toContain("[##########----------]  50%  half");
    // Cursor up one line and clear to the end of the screen: the bar is erased before each redraw.
    expect(text).toContain("\x1b[1A\x1b[J");
    expect(text.endsWith("done   0123456789ab  train  fold0 (+1)  10ms\n")).toBe(true);
  });
});

describe("formatDuration", () => {
  it("scales units with the duration", () => {
    expect([formatDuration(999), formatDuration(1000), formatDuration(59_949), formatDuration(125_000)]).toEqual(["999ms", "1.0s", "59.9s", "2m05s"]);
  });
});
