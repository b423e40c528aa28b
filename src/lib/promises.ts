/** Small promise helpers shared by the shutdown paths (lib/shutdown.ts, the queue adapters). */

/** Whether `p` settles within `ms` (its rejection counts as settled: the caller awaits it). */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const, () => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
