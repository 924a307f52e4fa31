// queuedNodeExec with a FAKE inner NodeExec whose commands end when the test says so: no cluster here. The
// operator uses it in front of the probe Pods' exec (test/integration/nodes.test.ts runs that for real).
import type { ExecOptions, ExecResult, NodeExec } from '../../src/observe/exec.ts';
import { queuedNodeExec } from '../../src/observe/node-exec-queue.ts';

interface Call {
  node: string;
  command: string;
  options: ExecOptions | undefined;
  finish(result: ExecResult | Error): void;
}

/** FAKE NodeExec: records each call and leaves it running until finish(). */
function heldExec() {
  const calls: Call[] = [];
  const exec: NodeExec = {
    exec: (node, argv, options) =>
      new Promise((resolve, reject) => {
        calls.push({ node, command: argv.join(' '), options, finish: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
      }),
  };
  return { exec, calls, running: (node: string) => calls.filter((c) => c.node === node).map((c) => c.command) };
}

const ok = (stdout: string): ExecResult => ({ stdout, stderr: '', exitCode: 0 });
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('at most perNode commands run on a node; the next starts when one ends', async () => {
  const inner = heldExec();
  const queued = queuedNodeExec(inner.exec, 1);
  const route = queued.exec('node-1', ['route', '-n']);
  const ipvs = queued.exec('node-1', ['ipvsadm', '-Ln']);
  await settle();
  expect(inner.running('node-1')).toEqual(['route -n']);
  expect(queued.waiting('node-1')).toBe(1);

  inner.calls[0]!.finish(ok('routes'));
  await expect(route).resolves.toEqual(ok('routes'));
  await settle();
  expect(inner.running('node-1')).toEqual(['route -n', 'ipvsadm -Ln']);
  inner.calls[1]!.finish(ok('ipvs'));
  await expect(ipvs).resolves.toEqual(ok('ipvs'));
  expect(queued.waiting('node-1')).toBe(0);
});

test('nodes do not wait for each other', async () => {
  const inner = heldExec();
  const queued = queuedNodeExec(inner.exec, 1);
  void queued.exec('node-1', ['route', '-n']);
  void queued.exec('node-2', ['route', '-n']);
  await settle();
  expect(inner.calls.map((c) => c.node)).toEqual(['node-1', 'node-2']);
});

test('a request joins an identical waiting one, never a running one', async () => {
  const inner = heldExec();
  const queued = queuedNodeExec(inner.exec, 1);
  const first = queued.exec('node-1', ['route', '-n']);
  await settle();
  // `route -n` is running: these two wait, and share one exec
  const second = queued.exec('node-1', ['route', '-n']);
  const third = queued.exec('node-1', ['route', '-n']);
  await settle();
  expect(queued.waiting('node-1')).toBe(1);

  inner.calls[0]!.finish(ok('before'));
  await expect(first).resolves.toEqual(ok('before'));
  await settle();
  expect(inner.calls).toHaveLength(2);
  inner.calls[1]!.finish(ok('after'));
  await expect(second).resolves.toEqual(ok('after'));
  await expect(third).resolves.toEqual(ok('after'));
  expect(inner.calls).toHaveLength(2);
});

test('requests with different timeouts do not share an exec; the timeout reaches the inner exec', async () => {
  const inner = heldExec();
  const queued = queuedNodeExec(inner.exec, 1);
  void queued.exec('node-1', ['ip', '-o', 'addr']);
  void queued.exec('node-1', ['route', '-n'], { timeoutMs: 5_000 });
  void queued.exec('node-1', ['route', '-n'], { timeoutMs: 60_000 });
  await settle();
  expect(queued.waiting('node-1')).toBe(2);
  inner.calls[0]!.finish(ok(''));
  await settle();
  inner.calls[1]!.finish(ok(''));
  await settle();
  expect(inner.calls.map((c) => c.options?.timeoutMs)).toEqual([undefined, 5_000, 60_000]);
});

test('a failure reaches every caller that shared the exec, and the queue goes on', async () => {
  const inner = heldExec();
  const queued = queuedNodeExec(inner.exec, 1);
  void queued.exec('node-1', ['ip', '-o', 'addr']);
  const a = queued.exec('node-1', ['ipvsadm', '-Ln']);
  const b = queued.exec('node-1', ['ipvsadm', '-Ln']);
  const after = queued.exec('node-1', ['route', '-n']);
  await settle();
  inner.calls[0]!.finish(ok(''));
  await settle();
  inner.calls[1]!.finish(new Error('timed out'));
  await expect(a).rejects.toThrow('timed out');
  await expect(b).rejects.toThrow('timed out');
  await settle();
  inner.calls[2]!.finish(ok('routes'));
  await expect(after).resolves.toEqual(ok('routes'));
});

test('two at a time when perNode is 2', async () => {
  const inner = heldExec();
  const queued = queuedNodeExec(inner.exec, 2);
  for (const argv of [['route', '-n'], ['ipvsadm', '-Ln'], ['ip', '-o', 'addr']]) void queued.exec('node-1', argv);
  await settle();
  expect(inner.running('node-1')).toEqual(['route -n', 'ipvsadm -Ln']);
});

test.each([0, 1.5, NaN])('perNode %p is refused with a message', (n) => {
  expect(() => queuedNodeExec(heldExec().exec, n)).toThrow(`commands per node must be a whole number of at least 1, got ${n}`);
});
