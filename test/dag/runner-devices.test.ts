import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import { describe, expect, it } from "vitest";
import { detectGpus, parseNvidiaSmi, resolveGpus } from "../../dag/runner/devices.js";
import { GpuPool } from "../../dag/runner/gpu-pool.js";

const twoDevices = () =>
  new GpuPool([
    { id: "0", memoryMiB: 1000 },
    { id: "1", memoryMiB: 1000 },
  ]);

describe("GpuPool.tryAcquire", () => {
  it("packs small requests by best fit", () => {
    const pool = twoDevices();
    const first = pool.tryAcquire(1, 400)!;
    const second = pool.tryAcquire(1, 400)!;
    // Best fit: device 0 has 600 MiB free after the first lease, less than device 1's 1000.
    expect([first.cudaVisibleDevices, second.cudaVisibleDevices]).toEqual(["0", "0"]);
    expect(pool.tryAcquire(1, 700)?.cudaVisibleDevices).toBe("1");
    expect(pool.inUse()).toEqual({ "0": 800, "1": 700 });
    expect(pool.tryAcquire(1, 400)).toBeUndefined();
  });

  it("grants whole and multiple devices", () => {
    const pool = twoDevices();
    const small = pool.tryAcquire(1, 100)!;
    expect(pool.tryAcquire(1, 0)?.cudaVisibleDevices).toBe("1");
    expect(pool.tryAcquire(1, 0)).toBeUndefined();
    pool.release(small);
    expect(pool.tryAcquire(1, 0)?.cudaVisibleDevices).toBe("0");
    expect(pool.inUse()).toEqual({ "0": 1000, "1": 1000 });

    const wide = twoDevices().tryAcquire(2, 500)!;
    expect(wide.devices).toEqual(["0", "1"]);
    expect(wide.cudaVisibleDevices).toBe("0,1");
  });

  it("explains impossible requests", () => {
    expect(new GpuPool([]).impossible(1, 100)).toMatch(/none were found.*--gpus/);
    expect(twoDevices().impossible(3, 100)).toMatch(/needs 3 GPU\(s\).*0: 1000 MiB, 1: 1000 MiB/);
    expect(twoDevices().impossible(1, 1001)).toMatch(/1001 MiB/);
    expect(twoDevices().impossible(0, 0)).toBeUndefined();
    expect(() => twoDevices().tryAcquire(1, 5000)).toThrow(/cannot be met/);
  });
});

describe("GpuPool.acquire", () => {
  it("waits for a release", async () => {
    const pool = twoDevices();
    const held = [pool.tryAcquire(1, 800)!, pool.tryAcquire(1, 800)!];

    const waiting = Effect.runFork(pool.acquire(1, 500));
    const interrupted = Effect.runFork(pool.acquire(1, 300));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await Effect.runPromise(Fiber.interrupt(interrupted));
    expect(pool.inUse()).toEqual({ "0": 800, "1": 800 });

    pool.release(held[1]!);
    const lease = await Effect.runPromise(Fiber.join(waiting));
    expect(lease.cudaVisibleDevices).toBe("1");
    expect(pool.inUse()).toEqual({ "0": 800, "1": 500 });
  });

  it("releases a lease on failure", async () => {
    const pool = twoDevices();
    const failing = Effect.scoped(Effect.flatMap(pool.lease(2, 1000), () => Effect.fail("stage failed")));
    await expect(Effect.runPromise(failing)).rejects.toThrow();
    expect(pool.inUse()).toEqual({ "0": 0, "1": 0 });
  });
});

describe("parseNvidiaSmi", () => {
  it("reads index and memory", () => {
    // The format of `nvidia-smi --query-gpu=index,memory.total --format=csv,noheader,nounits`.
    expect(parseNvidiaSmi("0, 81559\n1, 81559\n")).toEqual([
      { id: "0", memoryMiB: 81559 },
      { id: "1", memoryMiB: 81559 },
    ]);
    expect(parseNvidiaSmi("No devices were found\n")).toEqual([]);
  });
});

describe("resolveGpus", () => {
  const detected = async () => [{ id: "0", memoryMiB: 24000 }];

  it("combines --gpus with memory sources", async () => {
    expect(await resolveGpus(["0", "1"], 8000, detected)).toEqual([
      { id: "0", memoryMiB: 8000 },
      { id: "1", memoryMiB: 8000 },
    ]);
    expect(await resolveGpus(["0"], undefined, detected)).toEqual([{ id: "0", memoryMiB: 24000 }]);
    expect(await resolveGpus(undefined, undefined, detected)).toEqual([{ id: "0", memoryMiB: 24000 }]);
    await expect(resolveGpus(["3"], undefined, detected)).rejects.toThrow(/device 3.*--gpu-memory/);
  });

  it("finds no GPUs when nvidia-smi is absent", async () => {
    expect(await detectGpus("fancl-test-no-such-nvidia-smi")).toEqual([]);
  });
});
