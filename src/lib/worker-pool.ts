/**
 * A small pool of worker threads (node:worker_threads) for CPU-bound, pure work that must not run
 * on the event loop (one 5 MB subtitle file is ~300 ms of regex work: ten at once stalled every
 * request for seconds). Bounded everywhere: a fixed number of threads, started on first use; a
 * bounded queue, past which a task is refused at once (`busy`) rather than piling up memory; a
 * time limit per task (the thread is terminated and replaced: a runaway parse costs its own
 * thread, never the process); and a heap limit per thread (`resourceLimits`: a thread that
 * exceeds it dies with ERR_WORKER_OUT_OF_MEMORY, the process lives on).
 *
 * One task per thread at a time, so the protocol is one message each way, after the thread's
 * `ready` (its entry loaded: under tsx that is a compile, which must not count against the first
 * task's time). The thread's side is `serveWorkerTasks` below. Idle threads are unref'd: they never
 * keep a process alive.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parentPort, Worker, type ResourceLimits, type TransferListItem } from "node:worker_threads";

export interface WorkerPoolOptions {
  /** threads at most */
  size: number;
  /** tasks waiting for a thread at most; one more is refused with `busy` */
  maxQueue: number;
  /** a task running longer is failed with `timeout` and its thread terminated */
  taskTimeoutMs: number;
  resourceLimits?: ResourceLimits;
}

export type WorkerPoolErrorCode = "busy" | "timeout" | "crashed" | "closed";

export class WorkerPoolError extends Error {
  constructor(
    readonly code: WorkerPoolErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "WorkerPoolError";
  }
}

/** What the thread answers: the value, or the message of what it threw; `ready` once, first. */
type Reply<Out> = { ok: true; value: Out } | { ok: false; message: string } | { ready: true };

interface Task<In, Out> {
  input: In;
  transfer: TransferListItem[];
  resolve: (v: Out) => void;
  reject: (err: unknown) => void;
}

interface Slot<In, Out> {
  worker: Worker;
  /** the thread said `ready`: it takes tasks */
  ready: boolean;
  task: Task<In, Out> | null;
  timer: NodeJS.Timeout | null;
}

/**
 * How to start `entry`: the built `.js` as is; a `.ts` source (tests, `npm run dev`) through tsx,
 * resolved from here so the thread does not depend on the working directory. Node 20 does not
 * apply `--import tsx` in a worker's execArgv to the worker's own entry ("Unknown file extension
 * .ts"), so a two-line CommonJS bootstrap registers tsx's require hook and then requires it.
 */
function threadStart(entry: URL): { script: URL | string; eval: boolean } {
  if (!entry.pathname.endsWith(".ts")) return { script: entry, eval: false };
  const tsx = createRequire(import.meta.url).resolve("tsx/cjs/api");
  return { script: `require(${JSON.stringify(tsx)}).register();\nrequire(${JSON.stringify(fileURLToPath(entry))});`, eval: true };
}

export class WorkerPool<In, Out> {
  private readonly slots = new Set<Slot<In, Out>>();
  private readonly queue: Array<Task<In, Out>> = [];
  private closed = false;

  /** `entry`: a module that calls `serveWorkerTasks` (`new URL("./x.thread.js", import.meta.url)`). */
  constructor(
    private readonly entry: URL,
    private readonly opts: WorkerPoolOptions,
  ) {}

  /** Tasks running and waiting (for tests and metrics). */
  get pending(): number {
    return this.queue.length + [...this.slots].filter((s) => s.task).length;
  }

  /** Runs one task in a thread; `transfer` moves buffers instead of copying them (they become unusable here). */
  run(input: In, transfer: TransferListItem[] = []): Promise<Out> {
    if (this.closed) return Promise.reject(new WorkerPoolError("closed", "The worker pool is closed."));
    const slots = [...this.slots];
    const free = slots.some((s) => s.ready && s.task === null);
    // a thread still starting takes the first task waiting: that one does not wait for a free thread
    const waiting = this.queue.length - slots.filter((s) => !s.ready).length;
    if (!free && this.slots.size >= this.opts.size && waiting >= this.opts.maxQueue) {
      return Promise.reject(new WorkerPoolError("busy", `All ${this.opts.size} threads are busy and ${waiting} tasks wait.`));
    }
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, transfer, resolve, reject });
      this.dispatch();
    });
  }

  /** Terminates every thread; running and waiting tasks fail with `closed`. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new WorkerPoolError("closed", "The worker pool is closed."));
    await Promise.all([...this.slots].map((s) => this.retire(s, new WorkerPoolError("closed", "The worker pool is closed."))));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = [...this.slots].find((s) => s.ready && s.task === null);
      if (!slot) {
        // more threads only for tasks no starting thread will take
        const starting = [...this.slots].filter((s) => !s.ready).length;
        if (this.slots.size < this.opts.size && this.queue.length > starting) this.spawn();
        return;
      }
      this.start(slot, this.queue.shift()!);
    }
  }

  private spawn(): Slot<In, Out> {
    const start = threadStart(this.entry);
    const worker = new Worker(start.script, { eval: start.eval, resourceLimits: this.opts.resourceLimits, stdout: false, stderr: false });
    worker.unref();
    const slot: Slot<In, Out> = { worker, ready: false, task: null, timer: null };
    this.slots.add(slot);
    worker.on("message", (reply: Reply<Out>) => {
      if ("ready" in reply) {
        slot.ready = true;
        this.dispatch();
        return;
      }
      const task = this.finish(slot);
      if (!task) return;
      if (reply.ok) task.resolve(reply.value);
      else task.reject(new Error(reply.message));
      this.dispatch();
    });
    worker.on("error", (err) => {
      void this.retire(slot, new WorkerPoolError("crashed", `A worker thread failed: ${err.message}`, { cause: err }));
    });
    worker.on("exit", () => {
      void this.retire(slot, new WorkerPoolError("crashed", "A worker thread exited."));
    });
    return slot;
  }

  private start(slot: Slot<In, Out>, task: Task<In, Out>): void {
    slot.task = task;
    // A busy thread keeps the process alive until its answer; an idle one does not.
    slot.worker.ref();
    slot.timer = setTimeout(() => {
      void this.retire(slot, new WorkerPoolError("timeout", `The task took longer than ${this.opts.taskTimeoutMs} ms.`));
    }, this.opts.taskTimeoutMs);
    try {
      slot.worker.postMessage(task.input, task.transfer);
    } catch (err) {
      void this.retire(slot, err);
    }
  }

  /** The slot's task, now detached from it; the slot is idle again. */
  private finish(slot: Slot<In, Out>): Task<In, Out> | null {
    const task = slot.task;
    slot.task = null;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.worker.unref();
    return task;
  }

  /** Removes a slot for good (its thread terminated), failing its task with `err`; the queue moves on. */
  private async retire(slot: Slot<In, Out>, err: unknown): Promise<void> {
    if (!this.slots.delete(slot)) return;
    this.finish(slot)?.reject(err);
    // A thread that died starting (a broken entry) fails the task it would have taken, so a
    // thread that can never start does not respawn forever behind a waiting queue.
    if (!slot.ready) this.queue.shift()?.reject(err);
    const done = slot.worker.terminate().catch(() => undefined);
    if (!this.closed) this.dispatch();
    await done;
  }
}

/**
 * The thread's side: answers every task message with `handle`'s value (moving the buffers it
 * lists in `transfer`), or with the message of what it threw.
 */
export function serveWorkerTasks<In, Out>(handle: (input: In) => { value: Out; transfer?: TransferListItem[] }): void {
  const port = parentPort;
  if (!port) throw new Error("serveWorkerTasks runs in a worker thread only");
  port.postMessage({ ready: true });
  port.on("message", (input: In) => {
    let reply: Reply<Out>;
    let transfer: TransferListItem[] = [];
    try {
      const r = handle(input);
      reply = { ok: true, value: r.value };
      transfer = r.transfer ?? [];
    } catch (err) {
      reply = { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply, transfer);
  });
}
