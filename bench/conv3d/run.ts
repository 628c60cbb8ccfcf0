/**
 * `npm run bench:conv3d`: forward + backward throughput of fancl's conv3d and conv3dTranspose2
 * on the default backend against PyTorch on CPU, both on one thread. PyTorch runs in
 * bench/conv3d/torch_twin.py, a child process of the same run. The layers are those of an
 * nnU-Net encoder on a 64³ patch with batch 2, plus its transposed convolutions. A second part
 * times one training step of a quickstart-sized U-Net against the identical PyTorch network.
 * Writes the `## conv3d` section of docs/benchmarks.md. The last line printed is
 * `conv3d fwd+bwd vs pytorch: ratio R`, R being our total throughput divided by PyTorch's.
 *
 * Usage: node dist/bench/conv3d/run.js [--repeats N] [--step-repeats N]
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";

import { deepSupervisionWeights } from "../../src/nn/losses.js";
import { createNetwork, stageFeatures, type NetworkConfig } from "../../src/nn/network.js";
import { initBackend } from "../../src/tensor/backend.js";
import { conv3d, conv3dTranspose2 } from "../../src/tensor/conv3d.js";
import { nativeStatus, setNativeEnabled } from "../../src/tensor/native.js";
import { SgdOptimizer } from "../../src/train/optimizer.js";
import { GradientPool } from "../../src/train/parallel.js";
import { Random } from "../../src/train/random.js";
import { trainStep, type LossSettings } from "../../src/train/step.js";
import type { PatchBatch } from "../../src/train/types.js";
import { writeSection as writeBenchmarkSection } from "../section.js";

const compiledFolder = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(compiledFolder, "../../..");
const twinScript = path.join(repoRoot, "bench/conv3d/torch_twin.py");
const docsFile = path.join(repoRoot, "docs/benchmarks.md");
const writeSection = (section: string): void => writeBenchmarkSection(docsFile, section);

/** Debian's python3 (where python3-torch lives) when present, else python3 on PATH. */
const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

const BATCH = 2;
const WARMUP = 1;

/** One benchmarked layer; `size` is the input's D, H, W in voxels. */
interface Layer {
  readonly kind: "conv" | "transpose";
  readonly cin: number;
  readonly cout: number;
  readonly size: readonly [number, number, number];
  readonly kernel: 1 | 3;
  readonly stride: 1 | 2;
}

const conv = (cin: number, cout: number, edge: number, stride: 1 | 2 = 1, kernel: 1 | 3 = 3): Layer => ({
  kind: "conv",
  cin,
  cout,
  size: [edge, edge, edge],
  kernel,
  stride,
});
const up = (cin: number, cout: number, edge: number): Layer => ({
  kind: "transpose",
  cin,
  cout,
  size: [edge, edge, edge],
  kernel: 3,
  stride: 2,
});

/** nnU-Net 3d_fullres on a 64³ patch: features min(320, 32·2^i), five stages. */
const layers: readonly Layer[] = [
  conv(4, 32, 64),
  conv(32, 32, 64),
  conv(32, 64, 64, 2),
  conv(64, 64, 32),
  conv(64, 128, 32, 2),
  conv(128, 128, 16),
  conv(128, 256, 16, 2),
  conv(256, 256, 8),
  conv(256, 320, 8, 2),
  conv(320, 320, 4),
  up(320, 256, 4),
  up(256, 128, 8),
  up(128, 64, 16),
  up(64, 32, 32),
  conv(32, 4, 64, 1, 1),
];

/** Forward + backward floating-point operations: three times the forward multiply-adds times 2. */
function layerFlops(layer: Layer): number {
  const [d, h, w] = layer.size;
  if (layer.kind === "transpose") {
    return 3 * 2 * BATCH * d * h * w * layer.cin * 8 * layer.cout;
  }
  const outVoxels = Math.ceil(d / layer.stride) * Math.ceil(h / layer.stride) * Math.ceil(w / layer.stride);
  return 3 * 2 * BATCH * outVoxels * layer.kernel ** 3 * layer.cin * layer.cout;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Median wall time and median CPU time (user + system, all threads of this process) in seconds. */
interface Timing {
  readonly wall: number;
  readonly cpu: number;
}

function medianTiming(run: () => void, repeats: number): Timing {
  for (let i = 0; i < WARMUP; i++) run();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    const startCpu = process.cpuUsage();
    run();
    const usedCpu = process.cpuUsage(startCpu);
    wall.push((performance.now() - start) / 1000);
    cpu.push((usedCpu.user + usedCpu.system) / 1e6);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/** `medianTiming` for a step that returns a promise. */
async function medianTimingAsync(run: () => Promise<unknown>, repeats: number): Promise<Timing> {
  for (let i = 0; i < WARMUP; i++) await run();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    const startCpu = process.cpuUsage();
    await run();
    const usedCpu = process.cpuUsage(startCpu);
    wall.push((performance.now() - start) / 1000);
    cpu.push((usedCpu.user + usedCpu.system) / 1e6);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/** Times forward + backward of one layer; dy is a fixed random tensor of y's shape. */
function layerTiming(layer: Layer, repeats: number): Timing {
  const [d, h, w] = layer.size;
  const x = tf.randomNormal([BATCH, d, h, w, layer.cin]) as tf.Tensor5D;
  const filterShape: [number, number, number, number, number] = layer.kind === "transpose" ? [2, 2, 2, layer.cout, layer.cin] : [layer.kernel, layer.kernel, layer.kernel, layer.cin, layer.cout];
  const filter = tf.randomNormal(filterShape) as tf.Tensor5D;
  const op = (a: tf.Tensor, b: tf.Tensor): tf.Tensor5D =>
    layer.kind === "transpose" ? conv3dTranspose2(a as tf.Tensor5D, b as tf.Tensor5D) : conv3d(a as tf.Tensor5D, b as tf.Tensor5D, layer.stride);
  const dy = tf.tidy(() => tf.randomNormal([...op(x, filter).shape]));

  const timing = medianTiming(() => {
    tf.tidy(() => {
      const [dx, dFilter] = tf.grads(op)([x, filter], dy);
      dx.dataSync();
      dFilter.dataSync();
    });
  }, repeats);
  tf.dispose([x, filter, dy]);
  return timing;
}

/** The quickstart experiment's network (experiments/quickstart.yaml) without FGA. */
const quickstart = {
  config: {
    inChannels: 4,
    numClasses: 4,
    stages: 3,
    baseFeatures: 8,
    maxFeatures: 32,
    deepSupervision: true,
    fga: { enabled: false, patchSize: 8, lambda: 0, goldenGradient: false },
  } satisfies NetworkConfig,
  patch: [32, 32, 32] as const,
  batch: 2,
};

/**
 * Times the trainer's own step (src/train: Dice+CE with deep supervision, gradient clipping, SGD
 * Nesterov with weight decay) on `threads` threads. With more than one, GradientPool splits the
 * batch by sample across worker threads.
 */
async function trainerStepTiming(threads: number, repeats: number): Promise<Timing> {
  const { config, patch, batch } = quickstart;
  const network = createNetwork(config, 0);
  const optimizer = new SgdOptimizer(network.variables, { momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
  const rng = new Random(1);
  const voxels = patch[0] * patch[1] * patch[2];
  const patches: PatchBatch = {
    image: Float32Array.from({ length: batch * voxels * config.inChannels }, () => rng.normal()),
    label: Uint8Array.from({ length: batch * voxels }, () => rng.int(config.numClasses)),
    batchSize: batch,
    patchSize: patch,
    channels: config.inChannels,
  };
  const settings: LossSettings = { hardVoxels: "background", batchDice: false, gradientClipNorm: 12 };
  const where = { epoch: 0, iteration: 0 };
  const backend = tf.getBackend();
  const pool =
    threads > 1 && (backend === "wasm" || backend === "cpu")
      ? await GradientPool.start(threads, { network: config, backend })
      : undefined;
  try {
    return await medianTimingAsync(
      async () =>
        pool === undefined
          ? trainStep(network, optimizer, patches, 0.01, settings, where)
          : pool.step(network, optimizer, patches, 0.01, settings, where),
      repeats,
    );
  } finally {
    await pool?.close();
    optimizer.dispose();
    network.dispose();
  }
}

interface TwinResult {
  readonly torch: string;
  readonly threads: number;
  readonly layers: Timing[];
  readonly step: Timing;
  /** The step with PyTorch's default of one thread per core. */
  readonly stepAllCores: Timing;
  readonly allCoresThreads: number;
}

/** Runs the PyTorch twin with the same job and returns its medians. */
async function runTwin(repeats: number, stepRepeats: number): Promise<TwinResult> {
  const job = {
    batch: BATCH,
    warmup: WARMUP,
    repeats,
    stepRepeats,
    layers,
    network: {
      inChannels: quickstart.config.inChannels,
      classes: quickstart.config.numClasses,
      features: stageFeatures(quickstart.config),
      patch: quickstart.patch,
      batch: quickstart.batch,
      supervisionWeights: deepSupervisionWeights(quickstart.config.stages - 1),
    },
  };
  const child = spawn(python, [twinScript], { stdio: ["pipe", "pipe", "inherit"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(JSON.stringify(job));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) {
    throw new Error(`${python} ${twinScript} exited with code ${code}; check that python3-torch is installed`);
  }
  return JSON.parse(output) as TwinResult;
}

function describeLayer(layer: Layer): string {
  const [d] = layer.size;
  if (layer.kind === "transpose") return `up ${layer.cin}→${layer.cout} k2 s2, ${d}³`;
  return `${layer.cin}→${layer.cout} k${layer.kernel} s${layer.stride}, ${d}³`;
}


const ms = (seconds: number): string => (seconds * 1000).toFixed(0);

/** Times every layer with the kernels now selected, printing one line each. */
function layerTimings(label: string, repeats: number): Timing[] {
  return layers.map((layer) => {
    const timing = layerTiming(layer, repeats);
    const gflops = layerFlops(layer) / timing.cpu / 1e9;
    console.log(`${label} ${describeLayer(layer)}: wall ${ms(timing.wall)} ms, cpu ${ms(timing.cpu)} ms, ${gflops.toFixed(1)} GFLOP/s`);
    return timing;
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { repeats: { type: "string", default: "3" }, "step-repeats": { type: "string", default: "5" } },
  });
  const repeats = Number(values.repeats);
  const stepRepeats = Number(values["step-repeats"]);
  const backend = await initBackend("auto");
  const native = nativeStatus();
  console.log(native.loaded ? `native kernels: ${native.path} (AVX-512 ${native.avx512 ? "on" : "off"})` : `native kernels: not loaded (${native.reason})`);

  // "ours" is what conv3d runs by default: the native kernels when they load, else the composed ones.
  const ours = layerTimings(native.loaded ? "native" : "composed", repeats);
  setNativeEnabled(false);
  const composed = native.loaded ? layerTimings("composed", repeats) : ours;
  const composedStep = await trainerStepTiming(1, stepRepeats);
  console.log(`training step, composed kernels, 1 thread: wall ${ms(composedStep.wall)} ms, cpu ${ms(composedStep.cpu)} ms`);
  setNativeEnabled(true);

  const cores = os.availableParallelism();
  const steps: Array<[number, Timing]> = [];
  for (const threads of [...new Set([1, cores])]) {
    const timing = await trainerStepTiming(threads, stepRepeats);
    console.log(`training step, default kernels, ${threads} thread(s): wall ${ms(timing.wall)} ms, cpu ${ms(timing.cpu)} ms`);
    steps.push([threads, timing]);
  }

  const twin = await runTwin(repeats, stepRepeats);

  // Throughput uses CPU time: other processes on a shared machine inflate wall time at random.
  const totalFlops = layers.reduce((sum, layer) => sum + layerFlops(layer), 0);
  const total = (timings: readonly Timing[], key: keyof Timing) => timings.reduce((sum, t) => sum + t[key], 0);
  const gflops = (timings: readonly Timing[]) => totalFlops / total(timings, "cpu") / 1e9;
  const ratio = total(twin.layers, "cpu") / total(ours, "cpu");
  const wallRatio = total(twin.layers, "wall") / total(ours, "wall");
  const composedRatio = total(twin.layers, "cpu") / total(composed, "cpu");
  const ourKernels = native.loaded ? `native (native/, AVX-512 ${native.avx512 ? "on" : "off"})` : "composed";

  const cpuModel = os.cpus()[0]?.model ?? "unknown CPU";
  const rows = layers.map((layer, i) => {
    const mine = ours[i]!;
    const theirs = twin.layers[i]!;
    const gMine = layerFlops(layer) / mine.cpu / 1e9;
    const gComposed = layerFlops(layer) / composed[i]!.cpu / 1e9;
    const gTheirs = layerFlops(layer) / theirs.cpu / 1e9;
    return `| ${describeLayer(layer)} | ${ms(mine.cpu)} | ${ms(mine.wall)} | ${gMine.toFixed(1)} | ${gComposed.toFixed(1)} | ${ms(theirs.cpu)} | ${ms(theirs.wall)} | ${gTheirs.toFixed(1)} | ${(gMine / gTheirs).toFixed(2)} |`;
  });
  const stepRow = (name: string, threads: number, t: Timing): string =>
    `| ${name} | ${threads} | ${ms(t.cpu)} | ${ms(t.wall)} | ${(t.cpu / twin.step.cpu).toFixed(2)} | ` +
    `${(t.wall / twin.step.wall).toFixed(2)} | ${(t.wall / twin.stepAllCores.wall).toFixed(2)} |`;
  const [, oneThread] = steps[0]!;
  const [allThreads, allCores] = steps.at(-1)!;
  const met = (value: number, goal: number, better: "above" | "below") =>
    (better === "above" ? value >= goal : value <= goal) ? "met" : "not met";

  const section = [
    "## conv3d",
    "",
    "Forward + backward (input and filter gradients) of fancl's `conv3d` / `conv3dTranspose2` on the",
    `\`${backend.name}\` backend against PyTorch ${twin.torch} on CPU (\`F.conv3d\`, \`F.conv_transpose3d\`,`,
    `channels-first), both on one thread, batch ${BATCH}, nnU-Net encoder layer shapes on a 64³ patch, its`,
    "transposed convolutions and a 1×1×1 head. FLOPs = 3 × 2 × multiply-adds of the forward pass.",
    `Medians of ${repeats} runs after ${WARMUP} warm-up, both in the same run. GFLOP/s and ratios use CPU`,
    "time (user + system of the process), because other jobs on the shared machine inflate wall time;",
    `wall times are listed beside them. fancl's columns are its default kernels, ${ourKernels};`,
    "the composed column is the fallback built from the WASM backend's 2-D kernels (XNNPACK), timed in",
    "the same run.",
    "",
    "| layer (input size) | fancl cpu ms | fancl wall ms | fancl GFLOP/s | composed GFLOP/s | PyTorch cpu ms | PyTorch wall ms | PyTorch GFLOP/s | ratio |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    `| **total** | ${ms(total(ours, "cpu"))} | ${ms(total(ours, "wall"))} | ${gflops(ours).toFixed(1)} | ${gflops(composed).toFixed(1)} | ${ms(total(twin.layers, "cpu"))} | ${ms(total(twin.layers, "wall"))} | ${gflops(twin.layers).toFixed(1)} | ${ratio.toFixed(2)} |`,
    "",
    `Ratio of total throughput fancl / PyTorch: ${ratio.toFixed(2)} by CPU time, ${wallRatio.toFixed(2)} by wall time`,
    `(goal R ≥ 0.5: ${met(ratio, 0.5, "above")}). The composed kernels alone reach ${composedRatio.toFixed(2)}.`,
    "",
    "The native kernels (native/src/kernels.cc) pad the input once. They then accumulate tiles of up",
    "to 8 voxels (or input channels, for the filter gradient) by 32 channels in AVX-512 registers, or",
    "by 8 channels in 256-bit registers for layers of at most 8 channels. Each pass copies its tensors",
    "out of the TensorFlow.js backend and its result back in, and those copies are part of the times",
    "above. The composed kernels are bounded by XNNPACK's 128-bit WASM SIMD without fused",
    "multiply-add: its `conv2d` and `matMul` ran at 20–30 GFLOP/s here. In the training step, bias,",
    "instance norm and leaky ReLU also run as one native op (native/src/norm_act.cc).",
    "",
    "Training step of the quickstart U-Net (3 stages, 8/16/32 features, deep supervision, batch",
    `${quickstart.batch}, patch ${quickstart.patch.join("×")}, 4 modalities, 4 classes): the trainer's own step (src/train:`,
    "forward, Dice+CE, backward, gradient clipping, SGD Nesterov update) against the same network and",
    `step in PyTorch, median of ${stepRepeats} steps after ${WARMUP} warm-up. With more than one thread the batch`,
    "is split by sample across worker threads (`compute.training_threads`).",
    "",
    "| step | threads | cpu ms | wall ms | cpu / PyTorch | wall / PyTorch | wall / PyTorch on all cores |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    stepRow("fancl, composed kernels", 1, composedStep),
    ...steps.map(([threads, timing]) => stepRow(`fancl, ${native.loaded ? "native" : "composed"} kernels`, threads, timing)),
    stepRow("PyTorch (torch_twin.py), `torch.set_num_threads(1)`", 1, twin.step),
    stepRow("PyTorch (torch_twin.py), its default threads", twin.allCoresThreads, twin.stepAllCores),
    "",
    `Goal: at most 2× PyTorch's wall time per step. On one thread each: ${(oneThread.wall / twin.step.wall).toFixed(2)}×`,
    `(${met(oneThread.wall / twin.step.wall, 2, "below")}). On ${allThreads} threads against PyTorch's default of ${twin.allCoresThreads}: ${(allCores.wall / twin.stepAllCores.wall).toFixed(2)}×`,
    `(${met(allCores.wall / twin.stepAllCores.wall, 2, "below")}). PyTorch's one-thread step uses more CPU time than wall time, so a`,
    "thread of its own works beside the main one even then.",
    "",
    "Tried and dropped for the composed kernels, each compared with the shipped kernel in the same",
    "process on this machine:",
    "",
    "- Forward pass as one `conv2d` over the three depth taps stacked along channels (3·Cin input",
    "  channels), in place of three `conv2d` calls summed: 1.1–2.3× slower on every layer from 4→8",
    "  to 32→32 channels except 32→32 at 32³ (0.84×), because the channel `concat` costs more than",
    "  the sums.",
    "- Filter gradient as one `matMul` of dyᵀ [Cout, P] by an im2col matrix [P, 27·Cin]: 2–18× slower,",
    "  because the 27 shifted 4-D slices and their `concat` dominate.",
    "- XNNPACK threads: the WASM backend turns its threaded build off under Node",
    "  (`WASM_HAS_MULTITHREAD_SUPPORT` is false). Forcing it on with a worker script that Node can load",
    "  starts the pthread pool, but XNNPACK still reports one thread and `matMul` runs no faster.",
    "",
    `Machine: ${os.availableParallelism()} cores (nproc), ${cpuModel}, Node ${process.version}.`,
    "Command: `npm run build && npm run bench:conv3d`",
    "",
  ].join("\n");
  await writeSection(section);

  console.log(`training step wall: ${ms(oneThread.wall)} ms on 1 thread, ${ms(allCores.wall)} ms on ${allThreads}; pytorch ${ms(twin.step.wall)} ms on 1, ${ms(twin.stepAllCores.wall)} ms on ${twin.allCoresThreads}`);
  console.log(`conv3d fwd+bwd vs pytorch: ratio ${ratio.toFixed(2)}`);
}

await main();
