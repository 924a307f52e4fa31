import { createProgress, formatDuration } from '../../src/lab/progress.ts';

describe('formatDuration', () => {
  test.each([
    [0, '0.0s'],
    [1_260, '1.3s'],
    [59_940, '59.9s'],
    [60_000, '1m00s'],
    [63_400, '1m03s'],
    [3_725_000, '1h02m05s'],
  ])('%d ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('createProgress', () => {
  test('a step reports its own time and the total since the first step', () => {
    const lines: string[] = [];
    let t = 1000;
    const p = createProgress(2, (l) => lines.push(l), () => t);
    p.start(1, 'First');
    t += 2000;
    p.finish('done');
    p.start(2, 'Second');
    p.note('waiting for something');
    t += 61_000;
    p.finish('ready');
    expect(lines).toEqual([
      '[1/2] First ...',
      '[1/2] First: done in 2.0s (total 2.0s)',
      '[2/2] Second ...',
      '      waiting for something',
      '[2/2] Second: ready in 1m01s (total 1m03s)',
    ]);
    expect(p.elapsed()).toBe(63_000);
  });
});
