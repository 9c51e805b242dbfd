import type { Logger } from './log.js';

// Work a request starts but does not wait for (push deliveries). A task's failure is logged,
// never thrown into the request that started it. The Node server waits for running tasks on
// shutdown; tests settle them; on Workers each task also runs under the request's waitUntil.

export interface BackgroundTasks {
  /** Starts the task now and returns its promise, which never rejects. */
  run(task: () => Promise<void>): Promise<void>;
  /** Resolves when every task, including those started meanwhile, has finished, or after timeoutMs. */
  settle(timeoutMs?: number): Promise<void>;
  pending(): number;
}

export function createBackgroundTasks(log: Logger): BackgroundTasks {
  const running = new Set<Promise<void>>();
  return {
    run(task) {
      const promise = Promise.resolve()
        .then(task)
        .catch((err: unknown) => log.error('background task failed', { error: String((err as Error)?.message ?? err) }))
        .finally(() => running.delete(promise));
      running.add(promise);
      return promise;
    },
    async settle(timeoutMs = Infinity) {
      const deadline = Date.now() + timeoutMs;
      while (running.size > 0 && Date.now() < deadline) {
        const all = Promise.all(running).then(() => 'done' as const);
        if (timeoutMs === Infinity) await all;
        else {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), deadline - Date.now())));
          const outcome = await Promise.race([all, timeout]);
          clearTimeout(timer);
          if (outcome === 'timeout') return;
        }
      }
    },
    pending: () => running.size,
  };
}
