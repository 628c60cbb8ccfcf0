import { randomBytes } from "node:crypto";
import { link, open, readFile, rename, stat, unlink } from "node:fs/promises";
import os from "node:os";

/** The contents of a lock file: the process computing the node. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

/** A lock file that was empty or unreadable for this long is taken to be left by a crash mid-write. */
const UNREADABLE_STALE_MS = 10_000;

/** A held per-key lock; `release` removes the file and is safe to call twice. */
export interface HeldLock {
  readonly file: string;
  release(): Promise<void>;
}

/**
 * Tries once to take the lock file `file` (created with O_EXCL, holding pid and host).
 * Returns the held lock, or the current owner when another live process holds it. A lock
 * whose owner ran on this host and is dead is stale: it is moved aside and the attempt
 * repeated. Owners on other hosts cannot be checked and are always waited for.
 */
export async function tryLock(file: string): Promise<HeldLock | LockOwner> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const me: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
    try {
      const handle = await open(file, "wx");
      try {
        await handle.writeFile(JSON.stringify(me));
      } finally {
        await handle.close();
      }
      return heldLock(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new Error(`cannot create the lock file ${file}: ${(error as Error).message}`);
      }
    }

    const owner = await readOwner(file);
    if (owner === "gone") continue;
    if (owner === "unreadable" || isDeadHere(owner)) {
      await breakStaleLock(file);
      continue;
    }
    return owner;
  }
  return (await readOwner(file).then((owner) => (typeof owner === "string" ? undefined : owner))) ?? { pid: 0, host: "unknown", since: "" };
}

export function isHeld(result: HeldLock | LockOwner): result is HeldLock {
  return "release" in result;
}

function heldLock(file: string): HeldLock {
  let released = false;
  return {
    file,
    async release() {
      if (released) return;
      released = true;
      await unlink(file).catch(() => undefined);
    },
  };
}

async function readOwner(file: string): Promise<LockOwner | "gone" | "unreadable"> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw error;
  }
  try {
    const owner = JSON.parse(text) as LockOwner;
    if (typeof owner.pid === "number" && typeof owner.host === "string") return owner;
  } catch {
    // Fall through: a writer may be between create and write.
  }
  const age = await stat(file).then((info) => Date.now() - info.mtimeMs, () => 0);
  return age > UNREADABLE_STALE_MS ? "unreadable" : { pid: 0, host: "unknown (lock being written)", since: "" };
}

/**
 * Returns the owner of the lock file `file` when that process may be alive: it exists on this
 * host, or it runs on another host, which cannot be checked. Returns undefined when there is no
 * lock or its owner died. A lock still being written counts as held.
 */
export async function lockHolder(file: string): Promise<LockOwner | undefined> {
  const owner = await readOwner(file).catch(() => "unreadable" as const);
  if (typeof owner === "string" || isDeadHere(owner)) return undefined;
  return owner;
}

/** True when `owner` ran on this host and that process no longer exists; an owner on another host is never known dead. */
export function isDeadHere(owner: { readonly pid: number; readonly host: string }): boolean {
  if (owner.host !== os.hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Checks whether the lock file `file` is stale: its owner ran on this host and died, or it stayed
 * unreadable (a crash between create and write). Unless `dryRun`, a stale lock is then removed
 * the way `tryLock` breaks one, so a process that retakes the key meanwhile keeps its lock.
 */
export async function removeStaleLock(file: string, dryRun: boolean): Promise<boolean> {
  const owner = await readOwner(file).catch(() => "unreadable" as const);
  if (owner === "gone" || (owner !== "unreadable" && !isDeadHere(owner))) return false;
  if (!dryRun) await breakStaleLock(file);
  return true;
}

/**
 * Moves a stale lock aside. Only one of several processes breaking the same lock wins the
 * rename. When the moved file turns out to be a fresh lock (another process broke and retook
 * it in between), it is linked back into place.
 */
async function breakStaleLock(file: string): Promise<void> {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    await rename(file, aside);
  } catch {
    return;
  }
  const moved = await readOwner(aside).catch(() => "unreadable" as const);
  if (typeof moved !== "string" && !isDeadHere(moved)) {
    await link(aside, file).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}
