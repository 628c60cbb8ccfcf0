import * as Deferred from "effect/Deferred";
import * as Effect from "effect/Effect";

/** One GPU the runner may lease: its id as `CUDA_VISIBLE_DEVICES` names it, and its memory in MiB. */
export interface GpuDevice {
  readonly id: string;
  readonly memoryMiB: number;
}

/**
 * A lease: specific device ids, each holding `memoryMiB` of that device's memory until
 * released. `cudaVisibleDevices` is what the node's worker process gets.
 */
export interface GpuLease {
  readonly devices: readonly string[];
  readonly memoryMiB: number;
  readonly cudaVisibleDevices: string;
}

/**
 * GPU devices shared by memory. A request for `gpus` devices with `memoryMiB` each is granted
 * on the devices with the least free memory that still fit it (best fit), so small jobs pack
 * together and leave whole devices for large ones. A request of 0 MiB means the whole device.
 * Waiting requests retry on every release; there is no queue order between them.
 */
export class GpuPool {
  private readonly free: Map<string, number>;
  private released = Deferred.makeUnsafe<void>();

  constructor(readonly devices: readonly GpuDevice[]) {
    this.free = new Map(devices.map((device) => [device.id, device.memoryMiB]));
  }

  /**
   * Explains why these devices can never grant a request (too many GPUs, or more memory than
   * the largest device has); returns undefined when they can.
   */
  impossible(gpus: number, memoryMiB: number): string | undefined {
    if (gpus <= 0) return undefined;
    if (this.devices.length === 0) return `it needs ${gpus} GPU(s) but none were found; pass --gpus with device ids (e.g. --gpus 0,1) on a machine with GPUs`;
    const fitting = this.devices.filter((device) => device.memoryMiB >= memoryMiB);
    if (fitting.length < gpus) {
      const sizes = this.devices.map((device) => `${device.id}: ${device.memoryMiB} MiB`).join(", ");
      return `it needs ${gpus} GPU(s) with ${memoryMiB} MiB each but the devices are ${sizes}; give more devices with --gpus or lower the memory the stage needs`;
    }
    return undefined;
  }

  /** Waits until the request fits, then takes it. The wait is interruptible and takes nothing until it succeeds. */
  acquire(gpus: number, memoryMiB: number): Effect.Effect<GpuLease> {
    return Effect.suspend(() => {
      const lease = this.tryAcquire(gpus, memoryMiB);
      if (lease !== undefined) return Effect.succeed(lease);
      return Effect.flatMap(Deferred.await(this.released), () => this.acquire(gpus, memoryMiB));
    });
  }

  /** Holds a lease for the life of the enclosing scope; released on success, failure and interrupt alike. */
  lease(gpus: number, memoryMiB: number) {
    return Effect.acquireRelease(this.acquire(gpus, memoryMiB), (lease) => Effect.sync(() => this.release(lease)), { interruptible: true });
  }

  /** Grants the request now if it fits, else undefined. */
  tryAcquire(gpus: number, memoryMiB: number): GpuLease | undefined {
    const impossible = this.impossible(gpus, memoryMiB);
    if (impossible !== undefined) throw new Error(`GPU request cannot be met: ${impossible}`);
    const candidates = this.devices
      .map((device) => ({ device, need: memoryMiB === 0 ? device.memoryMiB : memoryMiB, free: this.free.get(device.id)! }))
      .filter((candidate) => candidate.free >= candidate.need && (memoryMiB !== 0 || candidate.free === candidate.device.memoryMiB))
      .sort((a, b) => a.free - a.need - (b.free - b.need));
    if (candidates.length < gpus) return undefined;

    const chosen = candidates.slice(0, gpus);
    for (const candidate of chosen) this.free.set(candidate.device.id, candidate.free - candidate.need);
    const ids = chosen.map((candidate) => candidate.device.id);
    return { devices: ids, memoryMiB, cudaVisibleDevices: ids.join(",") };
  }

  release(lease: GpuLease): void {
    for (const id of lease.devices) {
      const device = this.devices.find((d) => d.id === id)!;
      const give = lease.memoryMiB === 0 ? device.memoryMiB : lease.memoryMiB;
      this.free.set(id, Math.min(device.memoryMiB, this.free.get(id)! + give));
    }
    const waiters = this.released;
    this.released = Deferred.makeUnsafe<void>();
    Deferred.doneUnsafe(waiters, Effect.void);
  }

  /** Memory in use per device id, in MiB (for display and tests). */
  inUse(): Record<string, number> {
    return Object.fromEntries(this.devices.map((device) => [device.id, device.memoryMiB - this.free.get(device.id)!]));
  }
}
