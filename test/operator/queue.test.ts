// The work queue under jest's fake clock: debouncing, per-key serialisation, concurrency, backoff,
// requeue and forgetting, all measured in simulated milliseconds.
import { jest } from '@jest/globals';
import { backoffDelay, WorkQueue, type Outcome } from '../../src/operator/queue.ts';

interface Run {
  key: string;
  start: number;
  end?: number;
}

/** A handler that records each run and finishes after `durationMs` (simulated) with `outcome(key, n)`. */
function recorder(durationMs: number, outcome: (key: string, n: number) => Outcome = () => ({ kind: 'ok' })) {
  const runs: Run[] = [];
  const handler = async (key: string): Promise<Outcome> => {
    const run: Run = { key, start: Date.now() };
    runs.push(run);
    const n = runs.filter((r) => r.key === key).length;
    if (durationMs > 0) await new Promise((resolve) => setTimeout(resolve, durationMs));
    run.end = Date.now();
    return outcome(key, n);
  };
  return { runs, handler };
}

beforeEach(() => {
  jest.useFakeTimers({ now: 0 });
});
afterEach(() => {
  jest.useRealTimers();
});

test('a burst of events for one key becomes a single run, after the debounce quiet time', async () => {
  const { runs, handler } = recorder(10);
  const queue = new WorkQueue(handler, { debounceMs: 100, maxDebounceMs: 1000 });
  for (let i = 0; i < 20; i++) {
    queue.add('default/lab');
    await jest.advanceTimersByTimeAsync(10); // events 10 ms apart: always inside the quiet time
  }
  expect(runs).toHaveLength(0);
  await jest.advanceTimersByTimeAsync(100);
  expect(runs).toHaveLength(1);
  expect(runs[0]!.start).toBe(290); // last event at 190 ms + 100 ms quiet
  await queue.stop();
});

test('an endless stream of events cannot postpone a run beyond maxDebounceMs', async () => {
  const { runs, handler } = recorder(10);
  const queue = new WorkQueue(handler, { debounceMs: 100, maxDebounceMs: 300 });
  for (let i = 0; i < 50; i++) {
    queue.add('default/lab');
    await jest.advanceTimersByTimeAsync(20);
  }
  // runs at 300 ms (cap of the first burst), then events during/after it make further capped runs
  expect(runs.length).toBeGreaterThanOrEqual(3);
  expect(runs[0]!.start).toBe(300);
  await queue.stop();
});

test('one key never runs twice at once: an event during a run makes exactly one more run after it', async () => {
  const { runs, handler } = recorder(500);
  const queue = new WorkQueue(handler, { debounceMs: 50, maxDebounceMs: 200 });
  queue.add('ns/a');
  await jest.advanceTimersByTimeAsync(60); // run 1 starts at 50
  for (let i = 0; i < 5; i++) {
    queue.add('ns/a');
    await jest.advanceTimersByTimeAsync(50);
  }
  await jest.advanceTimersByTimeAsync(2000);
  expect(runs).toHaveLength(2);
  expect(runs[1]!.start).toBeGreaterThanOrEqual(runs[0]!.end!);
  await queue.stop();
});

test('different keys run in parallel up to the concurrency limit', async () => {
  const { runs, handler } = recorder(1000);
  const queue = new WorkQueue(handler, { debounceMs: 10, concurrency: 2 });
  for (const key of ['ns/a', 'ns/b', 'ns/c']) queue.add(key);
  await jest.advanceTimersByTimeAsync(20);
  expect(runs.map((r) => r.key)).toEqual(['ns/a', 'ns/b']);
  await jest.advanceTimersByTimeAsync(1000);
  expect(runs.map((r) => r.key)).toEqual(['ns/a', 'ns/b', 'ns/c']);
  expect(runs[2]!.start).toBe(1010);
  await jest.advanceTimersByTimeAsync(1000);
  await queue.stop();
});

test('transient failures retry with doubling delays; a success resets the count', async () => {
  const { runs, handler } = recorder(0, (_key, n) => (n <= 3 ? { kind: 'transient', error: new Error(`fail ${n}`) } : { kind: 'ok' }));
  const queue = new WorkQueue(handler, { debounceMs: 0, backoffBaseMs: 1000, backoffMaxMs: 60_000 });
  queue.add('ns/a');
  await jest.advanceTimersByTimeAsync(20_000);
  expect(runs).toHaveLength(4);
  const gaps = runs.slice(1).map((r, i) => r.start - runs[i]!.start);
  // 1 s, 2 s, 4 s, each within the +-10% jitter
  [1000, 2000, 4000].forEach((expected, i) => {
    expect(gaps[i]).toBeGreaterThanOrEqual(expected * 0.9);
    expect(gaps[i]).toBeLessThanOrEqual(expected * 1.1);
  });
  expect(queue.failures('ns/a')).toBe(0);
  await queue.stop();
});

test('a handler that throws counts as a transient failure and is retried, never crashing the queue', async () => {
  let calls = 0;
  const queue = new WorkQueue(
    async () => {
      calls += 1;
      if (calls === 1) throw new Error('boom');
      return { kind: 'ok' };
    },
    { debounceMs: 0, backoffBaseMs: 100 },
  );
  queue.add('ns/a');
  await jest.advanceTimersByTimeAsync(50);
  expect(queue.failures('ns/a')).toBe(1);
  await jest.advanceTimersByTimeAsync(200);
  expect(calls).toBe(2);
  await queue.stop();
});

test('requeueAfter schedules the periodic re-check, and an event brings it forward', async () => {
  const { runs, handler } = recorder(0, () => ({ kind: 'requeueAfter', ms: 60_000 }));
  const queue = new WorkQueue(handler, { debounceMs: 100 });
  queue.add('ns/a');
  await jest.advanceTimersByTimeAsync(200);
  expect(runs).toHaveLength(1);
  expect(queue.dueAt('ns/a')).toBe(60_100);
  await jest.advanceTimersByTimeAsync(10_000);
  queue.add('ns/a'); // a change: run now, not in 50 s
  await jest.advanceTimersByTimeAsync(150);
  expect(runs).toHaveLength(2);
  expect(runs[1]!.start).toBe(10_300);
  await queue.stop();
});

test('a terminal outcome is not retried; forget drops a pending key', async () => {
  const { runs, handler } = recorder(0, (key) => (key === 'ns/bad' ? { kind: 'terminal', error: new Error('bad spec') } : { kind: 'requeueAfter', ms: 1000 }));
  const queue = new WorkQueue(handler, { debounceMs: 0 });
  queue.add('ns/bad');
  queue.add('ns/gone');
  await jest.advanceTimersByTimeAsync(10);
  queue.forget('ns/gone');
  await jest.advanceTimersByTimeAsync(10_000);
  expect(runs.map((r) => r.key)).toEqual(['ns/bad', 'ns/gone']);
  expect(queue.size).toBe(0);
  await queue.stop();
});

describe('a lab forgotten while its check runs', () => {
  // The race: the lab is deleted (forget) while its run is in progress, and the run then asks for more.
  test.each([
    ['the next periodic check', { kind: 'requeueAfter', ms: 100 }],
    ['a retry after a transient failure', { kind: 'transient', error: new Error('probe timed out') }],
  ] as [string, Outcome][])('is not run again when its run asks for %s', async (_what, outcome) => {
    const { runs, handler } = recorder(500, () => outcome);
    const queue = new WorkQueue(handler, { debounceMs: 0, backoffBaseMs: 100 });
    queue.add('ns/gone');
    await jest.advanceTimersByTimeAsync(100); // the run started at 0 and lasts until 500
    expect(runs).toHaveLength(1);
    queue.add('ns/gone'); // an event during the run (would make one more run after it)...
    queue.forget('ns/gone'); // ...then the lab is deleted
    await jest.advanceTimersByTimeAsync(10_000);
    expect(runs).toHaveLength(1);
    expect(queue.size).toBe(0);
    expect(queue.dueAt('ns/gone')).toBeNull();
    await queue.stop();
  });

  test('created again before the run ends, it runs once more, after that run, from a clean retry count', async () => {
    const { runs, handler } = recorder(500, (_key, n) => (n === 1 ? { kind: 'transient', error: new Error('old lab') } : { kind: 'ok' }));
    const queue = new WorkQueue(handler, { debounceMs: 0, backoffBaseMs: 100 });
    queue.add('ns/lab');
    await jest.advanceTimersByTimeAsync(100);
    queue.forget('ns/lab');
    queue.add('ns/lab'); // a new lab of the same name
    await jest.advanceTimersByTimeAsync(10_000);
    expect(runs).toHaveLength(2);
    expect(runs[1]!.start).toBeGreaterThanOrEqual(runs[0]!.end!);
    expect(queue.failures('ns/lab')).toBe(0);
    expect(queue.size).toBe(0);
    await queue.stop();
  });
});

test('backoffDelay doubles from the base up to the ceiling', () => {
  const noJitter = () => 0.5;
  expect([1, 2, 3, 4, 10, 30].map((n) => backoffDelay(n, 500, 8000, noJitter))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
  expect(backoffDelay(1, 500, 8000, () => 0)).toBe(450);
  expect(backoffDelay(1, 500, 8000, () => 1)).toBe(550);
});
