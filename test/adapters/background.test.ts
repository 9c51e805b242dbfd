import { describe, expect, it } from 'vitest';
import { createBackgroundTasks } from '../../src/adapters/background.js';
import { createJsonLogger } from '../../src/adapters/log.js';

const logged = () => {
  const lines: string[] = [];
  return { lines, log: createJsonLogger('debug', (line) => lines.push(line)) };
};

describe('background tasks (what pushes run on)', () => {
  it('a failing task is logged, never thrown at whoever started it', async () => {
    const { lines, log } = logged();
    const tasks = createBackgroundTasks(log);
    await expect(tasks.run(async () => Promise.reject(new Error('push service exploded')))).resolves.toBeUndefined();
    expect(lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ level: 'error', message: 'background task failed', error: 'push service exploded' })]);
    expect(tasks.pending()).toBe(0);
  });

  it('settle waits for tasks started by running tasks too (a retry scheduled mid-delivery)', async () => {
    const tasks = createBackgroundTasks(logged().log);
    const done: string[] = [];
    tasks.run(async () => {
      await new Promise((r) => setTimeout(r, 20));
      tasks.run(async () => {
        await new Promise((r) => setTimeout(r, 20));
        done.push('inner');
      });
      done.push('outer');
    });
    await tasks.settle();
    expect(done).toEqual(['outer', 'inner']);
  });

  it('a shutdown does not wait past its bound for a task that hangs', async () => {
    const tasks = createBackgroundTasks(logged().log);
    tasks.run(() => new Promise(() => {}));
    const started = Date.now();
    await tasks.settle(100);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(tasks.pending()).toBe(1);
  });
});
