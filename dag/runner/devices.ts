import { execFile } from "node:child_process";
import os from "node:os";
import type { GpuDevice } from "./gpu-pool.js";

/** CPU slots when `--jobs` is not given: the cores this process may use. */
export function defaultJobs(): number {
  return os.availableParallelism();
}

/**
 * Lists the GPUs `nvidia-smi --query-gpu=index,memory.total --format=csv,noheader,nounits` lists,
 * or none when the tool is absent or fails (a machine without NVIDIA GPUs).
 */
export function detectGpus(command = "nvidia-smi"): Promise<GpuDevice[]> {
  return new Promise((resolve) => {
    execFile(command, ["--query-gpu=index,memory.total", "--format=csv,noheader,nounits"], { timeout: 10_000 }, (error, stdout) => {
      if (error) {
        resolve([]);
        return;
      }
      resolve(parseNvidiaSmi(stdout));
    });
  });
}

/** Parses lines of `index, memory.total` (MiB); lines that do not parse are skipped. */
export function parseNvidiaSmi(text: string): GpuDevice[] {
  const devices: GpuDevice[] = [];
  for (const line of text.split("\n")) {
    const match = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(line);
    if (match) devices.push({ id: match[1]!, memoryMiB: Number(match[2]) });
  }
  return devices;
}

/**
 * Returns the devices the runner may lease. `--gpus 0,1` picks device ids, with the memory
 * from `--gpu-memory MiB` when given, else from nvidia-smi. Without `--gpus`, every detected
 * GPU is used. Throws when a chosen id has no known memory.
 */
export async function resolveGpus(
  ids: readonly string[] | undefined,
  memoryMiB: number | undefined,
  detect: () => Promise<GpuDevice[]> = () => detectGpus(),
): Promise<GpuDevice[]> {
  if (ids === undefined) {
    const detected = await detect();
    return memoryMiB === undefined ? detected : detected.map((device) => ({ ...device, memoryMiB }));
  }
  if (memoryMiB !== undefined) return ids.map((id) => ({ id, memoryMiB }));

  const detected = await detect();
  return ids.map((id) => {
    const found = detected.find((device) => device.id === id);
    if (found === undefined) {
      const known = detected.length === 0 ? "nvidia-smi lists no GPUs" : `nvidia-smi lists ${detected.map((d) => d.id).join(", ")}`;
      throw new Error(`--gpus names device ${id} but ${known}; give its memory with --gpu-memory MiB or pick a listed id`);
    }
    return found;
  });
}
