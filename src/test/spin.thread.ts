/**
 * Worker-thread entry for the worker pool's tests: spins the CPU for `ms` (as a long parse does,
 * never yielding), then answers `value` doubled in a moved buffer, or throws `fail`.
 */
import { serveWorkerTasks } from "../lib/worker-pool.js";

export interface SpinTask {
  ms: number;
  value: number;
  fail?: string;
}

serveWorkerTasks<SpinTask, { doubled: Uint8Array }>(({ ms, value, fail }) => {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: the event loop of this thread is blocked, as a synchronous parse blocks it
  }
  if (fail) throw new Error(fail);
  const doubled = new Uint8Array([value * 2]);
  return { value: { doubled }, transfer: [doubled.buffer] };
});
