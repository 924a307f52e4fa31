// The grace window and network programming latency, as pure bookkeeping over plain data.
import type { Finding } from '../../src/compare/types.ts';
import { advance, emptyConvergence, findingId, isConverging, recordChange } from '../../src/operator/convergence.ts';

const GRACE = 30_000;

function finding(key: string, node: string | null = 'node-1', layer: Finding['layer'] = 'ipvs'): Finding {
  return { layer, kind: 'missing', node, key, fields: [], expected: null, observed: null, message: `${key} is missing`, cause: '', next: '' };
}

describe('isConverging', () => {
  test('a difference first seen right after a change is converging until the grace period has passed', () => {
    expect(isConverging(1_000, 1_000, 500, GRACE)).toBe(true);
    expect(isConverging(1_000, 30_999, 500, GRACE)).toBe(true);
    expect(isConverging(1_000, 31_000, 500, GRACE)).toBe(false);
  });
  test('without any change, or with a change long before it appeared, a difference is real at once', () => {
    expect(isConverging(1_000, 1_000, null, GRACE)).toBe(false);
    expect(isConverging(100_000, 100_000, 1_000, GRACE)).toBe(false);
  });
  test('a difference seen slightly before the operator heard of the change still counts as converging', () => {
    expect(isConverging(10_000, 12_000, 11_000, GRACE)).toBe(true);
  });
});

describe('advance', () => {
  test('first-seen times survive across checks and a difference turns firm once it outlives the window', () => {
    let state = recordChange(emptyConvergence, { at: 1_000, what: 'Service default/web updated' }, ['node-1']);
    const missing = finding('TCP 10.96.0.20:80');
    let result = advance(state, { findings: [missing], observed: [{ node: 'node-1', startedAt: 1_200, ok: true }], now: 1_500, graceMs: GRACE });
    expect(result.classified[0]).toMatchObject({ firstSeen: 1_200, converging: true, deadline: 31_200 });
    expect(result.nextDeadline).toBe(31_200);
    state = result.state;
    result = advance(state, { findings: [missing], observed: [{ node: 'node-1', startedAt: 20_000, ok: true }], now: 20_000, graceMs: GRACE });
    expect(result.classified[0]).toMatchObject({ firstSeen: 1_200, converging: true });
    result = advance(result.state, { findings: [missing], observed: [{ node: 'node-1', startedAt: 31_600, ok: true }], now: 31_600, graceMs: GRACE });
    expect(result.classified[0]).toMatchObject({ firstSeen: 1_200, converging: false, deadline: null });
    expect(result.nextDeadline).toBeNull();
  });

  test('a node is judged at the time it was read: a check that ends after the grace period still reports the difference converging', () => {
    const state = recordChange(emptyConvergence, { at: 1_000, what: 'Service default/late added' }, ['node-1', 'node-2']);
    const onNode2 = finding('TCP 10.96.0.30:5353', 'node-2');
    const dns = finding('late.default.svc.cluster.local. A', null, 'dns');
    // node-2 was read 5 s after the change, but the check (slow nodes, a DNS layer) ended 80 s after it
    let result = advance(state, { findings: [onNode2, dns], observed: [{ node: 'node-2', startedAt: 6_000, ok: true }], now: 81_000, graceMs: GRACE });
    expect(result.classified[0]).toMatchObject({ firstSeen: 6_000, converging: true, deadline: 36_000 });
    // a layer without a node is dated from the end of the check, which is when its answers were in
    expect(result.classified[1]).toMatchObject({ firstSeen: 81_000, converging: false });
    // read again 90 s later, still there: past its window, a real fault
    result = advance(result.state, { findings: [onNode2], observed: [{ node: 'node-2', startedAt: 96_000, ok: true }], now: 170_000, graceMs: GRACE });
    expect(result.classified[0]).toMatchObject({ firstSeen: 6_000, converging: false });
  });

  test('a difference that disappears and comes back starts a new first-seen time', () => {
    const missing = finding('TCP 10.96.0.20:80');
    let result = advance(emptyConvergence, { findings: [missing], observed: [], now: 1_000, graceMs: GRACE });
    result = advance(result.state, { findings: [], observed: [], now: 2_000, graceMs: GRACE });
    expect(result.state.firstSeen.has(findingId(missing))).toBe(false);
    result = advance(result.state, { findings: [missing], observed: [], now: 3_000, graceMs: GRACE });
    expect(result.classified[0]!.firstSeen).toBe(3_000);
  });

  test('a fault that was there before the change is not excused by the change', () => {
    const stale = finding('TCP 10.96.0.10:53 -> 10.244.0.99:53');
    let result = advance(emptyConvergence, { findings: [stale], observed: [], now: 1_000, graceMs: GRACE });
    expect(result.classified[0]!.converging).toBe(false);
    const state = recordChange(result.state, { at: 40_000, what: 'Pod default/x updated' }, []);
    result = advance(state, { findings: [stale], observed: [], now: 40_100, graceMs: GRACE });
    expect(result.classified[0]!.converging).toBe(false);
  });

  test('programming latency: from the change to the first probe that shows the node matching', () => {
    let state = recordChange(emptyConvergence, { at: 10_000, what: 'Service default/web added' }, ['node-1', 'node-2']);
    // node-1 already matches at its first probe; node-2 still lacks the virtual server
    let result = advance(state, {
      findings: [finding('TCP 10.96.0.20:80', 'node-2')],
      observed: [
        { node: 'node-1', startedAt: 10_300, ok: true },
        { node: 'node-2', startedAt: 10_300, ok: true },
      ],
      now: 10_400,
      graceMs: GRACE,
    });
    expect(result.measured).toEqual([{ node: 'node-1', change: 'Service default/web added', changedAt: 10_000, observedAt: 10_300, ms: 300 }]);
    expect([...result.state.pending.keys()]).toEqual(['node-2']);
    // a failed probe proves nothing
    result = advance(result.state, { findings: [], observed: [{ node: 'node-1', startedAt: 11_000, ok: true }, { node: 'node-2', startedAt: 11_000, ok: false }], now: 11_100, graceMs: GRACE });
    expect(result.measured).toEqual([]);
    result = advance(result.state, { findings: [], observed: [{ node: 'node-1', startedAt: 12_000, ok: true }, { node: 'node-2', startedAt: 12_500, ok: true }], now: 12_600, graceMs: GRACE });
    expect(result.measured.map((s) => [s.node, s.ms])).toEqual([['node-2', 2_500]]);
    expect([...result.state.latency.values()].map((s) => [s.node, s.ms])).toEqual([
      ['node-1', 300],
      ['node-2', 2_500],
    ]);
    // the earliest unconfirmed change is kept: a second change does not restart node-2's clock
    state = recordChange(result.state, { at: 20_000, what: 'a' }, ['node-2']);
    state = recordChange(state, { at: 21_000, what: 'b' }, ['node-2']);
    expect(state.pending.get('node-2')).toEqual({ at: 20_000, what: 'a' });
  });

  test('nodes that are no longer observed stop being tracked', () => {
    const state = recordChange(emptyConvergence, { at: 1_000, what: 'Node node-3 deleted' }, ['node-1', 'node-3']);
    const result = advance(state, { findings: [finding('x', 'node-1')], observed: [{ node: 'node-1', startedAt: 1_100, ok: true }], now: 1_200, graceMs: GRACE });
    expect([...result.state.pending.keys()]).toEqual(['node-1']);
  });
});
