/**
 * Runs async tasks with at most `limit` in flight. Returns a function that queues a task and
 * resolves (or rejects) with its result. A finishing task hands its slot straight to the
 * next queued one, so the limit holds even while callers keep arriving.
 */
export function boundedConcurrency(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError('limit must be a positive integer');
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
