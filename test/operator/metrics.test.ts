// The hand-written Prometheus text exposition, and the HTTP endpoints that serve it.
import { Counter, Histogram, operatorMetrics, Registry } from '../../src/operator/metrics.ts';
import { startHealthServer } from '../../src/operator/http.ts';

test('counters, gauges and histograms render in the text format, labels escaped', () => {
  const registry = new Registry();
  const counter = registry.register(new Counter('netlab_test_total', 'A test counter.', ['node']));
  const histogram = registry.register(new Histogram('netlab_test_seconds', 'A test histogram.', [], [0.1, 1]));
  counter.inc({ node: 'node-1' });
  counter.inc({ node: 'node-1' }, 2);
  counter.inc({ node: 'we"ird\\name' });
  histogram.observe({}, 0.05);
  histogram.observe({}, 0.5);
  histogram.observe({}, 5);
  expect(registry.render()).toBe(
    [
      '# HELP netlab_test_total A test counter.',
      '# TYPE netlab_test_total counter',
      'netlab_test_total{node="node-1"} 3',
      'netlab_test_total{node="we\\"ird\\\\name"} 1',
      '# HELP netlab_test_seconds A test histogram.',
      '# TYPE netlab_test_seconds histogram',
      'netlab_test_seconds_bucket{le="0.1"} 1',
      'netlab_test_seconds_bucket{le="1"} 2',
      'netlab_test_seconds_bucket{le="+Inf"} 3',
      'netlab_test_seconds_sum 5.55',
      'netlab_test_seconds_count 3',
      '',
    ].join('\n'),
  );
  expect(() => counter.inc({}, -1)).toThrow('cannot decrease');
});

test('/healthz, /readyz and /metrics answer on a loopback port', async () => {
  const metrics = operatorMetrics();
  metrics.checks.inc({ result: 'ok' });
  let notReady: string | null = 'waiting for the first list of pods';
  const server = await startHealthServer({ liveness: () => null, readiness: () => notReady, metrics: () => metrics.registry.render() }, 0, '127.0.0.1');
  try {
    const get = async (path: string) => {
      const response = await fetch(`http://127.0.0.1:${server.port}${path}`);
      return [response.status, await response.text()] as const;
    };
    expect(await get('/healthz')).toEqual([200, 'ok\n']);
    expect(await get('/readyz')).toEqual([503, 'waiting for the first list of pods\n']);
    notReady = null;
    expect(await get('/readyz')).toEqual([200, 'ok\n']);
    const [code, body] = await get('/metrics');
    expect(code).toBe(200);
    expect(body).toContain('netlab_checks_total{result="ok"} 1');
    expect(body).toContain('# TYPE netlab_network_programming_latency_seconds histogram');
    expect((await get('/nope'))[0]).toBe(404);
  } finally {
    await server.close();
  }
});
