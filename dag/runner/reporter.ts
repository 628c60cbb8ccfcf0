import type { GraphNode } from "../graph.js";
import type { NodeFailed } from "./errors.js";

/** The runner's output for the person watching: node starts, ends, failures, progress and stage logs. */
export interface Reporter {
  nodeStarted(node: GraphNode, device: string | undefined): void;
  nodeProgress(node: GraphNode, fraction: number, message?: string): void;
  nodeLog(node: GraphNode, message: string, annotations?: Record<string, unknown>): void;
  nodeFinished(node: GraphNode, durationMs: number, device: string | undefined): void;
  nodeFailed(node: GraphNode, failure: NodeFailed, durationMs: number): void;
  nodeSkipped(node: GraphNode, because: string): void;
  /** Another process holds the node's lock; this one waits for its result. */
  nodeWaiting(node: GraphNode, owner: string): void;
  /** A free-form line (run summary, warnings). */
  line(text: string): void;
  close(): void;
}

/** A writable text sink: process.stderr, or an array in tests. */
export interface TextSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export function describeNode(node: GraphNode): string {
  const label = node.labels.length === 0 ? "" : `  ${node.labels[0]}${node.labels.length > 1 ? ` (+${node.labels.length - 1})` : ""}`;
  return `${node.key.slice(0, 12)}  ${node.kind}${label}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s`;
}

function deviceText(device: string | undefined): string {
  return device === undefined ? "" : `  on ${device}`;
}

function failureLines(node: GraphNode, failure: NodeFailed, durationMs: number): string[] {
  const lines = [`failed ${describeNode(node)}  after ${formatDuration(durationMs)}: ${failure.message}`];
  if (failure.stderrTail.length > 0) {
    lines.push(`  last ${failure.stderrTail.length} line(s) of stderr of node ${node.key}:`);
    for (const line of failure.stderrTail) lines.push(`  | ${line}`);
  }
  return lines;
}

/**
 * One plain line per event, for logs and pipes. Progress prints a line only when it crosses
 * a tenth, so a long stage leaves about ten lines.
 */
export class PlainReporter implements Reporter {
  private readonly lastTenth = new Map<string, number>();

  constructor(private readonly sink: TextSink) {}

  nodeStarted(node: GraphNode, device: string | undefined): void {
    this.line(`start  ${describeNode(node)}${deviceText(device)}`);
  }

  nodeProgress(node: GraphNode, fraction: number, message?: string): void {
    const tenth = Math.floor(Math.min(1, Math.max(0, fraction)) * 10);
    if (tenth === (this.lastTenth.get(node.key) ?? -1)) return;
    this.lastTenth.set(node.key, tenth);
    this.line(`       ${describeNode(node)}  ${Math.round(fraction * 100)}%${message === undefined ? "" : `  ${message}`}`);
  }

  nodeLog(node: GraphNode, message: string, annotations?: Record<string, unknown>): void {
    const extra = annotations === undefined || Object.keys(annotations).length === 0 ? "" : `  ${JSON.stringify(annotations)}`;
    this.line(`log    ${node.key.slice(0, 12)}  ${node.kind}: ${message}${extra}`);
  }

  nodeFinished(node: GraphNode, durationMs: number, device: string | undefined): void {
    this.lastTenth.delete(node.key);
    this.line(`done   ${describeNode(node)}  ${formatDuration(durationMs)}${deviceText(device)}`);
  }

  nodeFailed(node: GraphNode, failure: NodeFailed, durationMs: number): void {
    for (const line of failureLines(node, failure, durationMs)) this.line(line);
  }

  nodeSkipped(node: GraphNode, because: string): void {
    this.line(`skip   ${describeNode(node)}  (${because})`);
  }

  nodeWaiting(node: GraphNode, owner: string): void {
    this.line(`wait   ${describeNode(node)}  (being computed by ${owner})`);
  }

  line(text: string): void {
    this.sink.write(`${text}\n`);
  }

  close(): void {}
}

/**
 * For a terminal: event lines scroll as in `PlainReporter`, and below them one progress bar
 * per running node is redrawn in place (at most ten times a second).
 */
export class TtyReporter implements Reporter {
  private readonly plain: PlainReporter;
  private readonly bars = new Map<string, { node: GraphNode; fraction: number; message: string; device: string | undefined }>();
  private drawnLines = 0;
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly sink: TextSink) {
    this.plain = new PlainReporter({ write: (text) => this.above(text) });
  }

  nodeStarted(node: GraphNode, device: string | undefined): void {
    this.bars.set(node.key, { node, fraction: 0, message: "", device });
    this.plain.nodeStarted(node, device);
  }

  nodeProgress(node: GraphNode, fraction: number, message?: string): void {
    const bar = this.bars.get(node.key);
    if (bar === undefined) return;
    bar.fraction = Math.min(1, Math.max(0, fraction));
    if (message !== undefined) bar.message = message;
    this.scheduleDraw();
  }

  nodeLog(node: GraphNode, message: string, annotations?: Record<string, unknown>): void {
    this.plain.nodeLog(node, message, annotations);
  }

  nodeFinished(node: GraphNode, durationMs: number, device: string | undefined): void {
    this.bars.delete(node.key);
    this.plain.nodeFinished(node, durationMs, device);
  }

  nodeFailed(node: GraphNode, failure: NodeFailed, durationMs: number): void {
    this.bars.delete(node.key);
    this.plain.nodeFailed(node, failure, durationMs);
  }

  nodeSkipped(node: GraphNode, because: string): void {
    this.plain.nodeSkipped(node, because);
  }

  nodeWaiting(node: GraphNode, owner: string): void {
    this.plain.nodeWaiting(node, owner);
  }

  line(text: string): void {
    this.plain.line(text);
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.bars.clear();
    this.erase();
  }

  /** Writes event text above the bars, then redraws them. */
  private above(text: string): void {
    this.erase();
    this.sink.write(text);
    this.draw();
  }

  private scheduleDraw(): void {
    const wait = 100 - (Date.now() - this.lastDraw);
    if (wait <= 0) {
      this.erase();
      this.draw();
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.erase();
        this.draw();
      }, wait);
    }
  }

  private erase(): void {
    if (this.drawnLines > 0) this.sink.write(`\x1b[${this.drawnLines}A\x1b[J`);
    this.drawnLines = 0;
  }

  private draw(): void {
    this.lastDraw = Date.now();
    const width = Math.max(40, (this.sink.columns ?? 100) - 1);
    let text = "";
    for (const bar of this.bars.values()) {
      const filled = Math.round(bar.fraction * 20);
      const line = `${describeNode(bar.node)}  [${"#".repeat(filled)}${"-".repeat(20 - filled)}] ${String(Math.round(bar.fraction * 100)).padStart(3)}%${deviceText(bar.device)}  ${bar.message}`;
      text += `${line.slice(0, width)}\n`;
    }
    this.drawnLines = this.bars.size;
    if (text !== "") this.sink.write(text);
  }
}

/** Progress bars on a terminal, plain lines otherwise. */
export function reporterFor(sink: TextSink): Reporter {
  return sink.isTTY === true ? new TtyReporter(sink) : new PlainReporter(sink);
}
