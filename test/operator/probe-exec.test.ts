// probeExec's own machinery (finding the probe pod, exit codes, timeouts, errors) with a FAKE of
// client-node's Exec: no cluster here. The real exec path runs in test/integration/operator-rbac.test.ts.
import { Writable } from 'node:stream';
import type { V1Status } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node';
import { exitCodeOf, probeExec, type ProbePod, rejectionText } from '../../src/observe/probe-exec.ts';

type Behaviour = (write: { stdout: Writable; stderr: Writable }, status: (s: V1Status) => void) => void;

/** FAKE Exec: records the call and plays `behaviour` instead of opening a WebSocket. */
function fakeExec(behaviour: Behaviour) {
  const calls: { namespace: string; pod: string; container: string; command: string | string[] }[] = [];
  const closed: boolean[] = [];
  return {
    calls,
    closed,
    exec: {
      async exec(namespace: string, pod: string, container: string, command: string | string[], stdout: Writable | null, stderr: Writable | null, _stdin: unknown, _tty: boolean, status?: (s: V1Status) => void) {
        calls.push({ namespace, pod, container, command });
        const index = closed.push(false) - 1;
        setImmediate(() => behaviour({ stdout: stdout!, stderr: stderr! }, status!));
        return { close: () => (closed[index] = true), on: () => {} } as never;
      },
    },
  };
}

const pods: Record<string, ProbePod> = { 'node-1': { namespace: 'netlab-system', name: 'netlab-probe-abcde' } };
const finder = (node: string) => pods[node] ?? null;

test('runs the command in the probe pod of the node and returns its output', async () => {
  const fake = fakeExec(({ stdout }, status) => {
    stdout.write('Kernel IP routing table\n');
    status({ status: 'Success' });
  });
  const exec = probeExec(new KubeConfig(), finder, { exec: fake.exec });
  await expect(exec.exec('node-1', ['route', '-n'])).resolves.toEqual({ stdout: 'Kernel IP routing table\n', stderr: '', exitCode: 0 });
  expect(fake.calls).toEqual([{ namespace: 'netlab-system', pod: 'netlab-probe-abcde', container: 'probe', command: ['route', '-n'] }]);
  expect(fake.closed).toEqual([true]);
});

test('a non-zero exit code comes back as the exit code, with stderr', async () => {
  const fake = fakeExec(({ stderr }, status) => {
    stderr.write("Can't initialize ipvs: Protocol not available\n");
    status({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '2' }] } });
  });
  const result = await probeExec(new KubeConfig(), finder, { exec: fake.exec }).exec('node-1', ['ipvsadm', '-Ln']);
  expect(result).toEqual({ stdout: '', stderr: "Can't initialize ipvs: Protocol not available\n", exitCode: 2 });
});

test('a node without a probe pod is an error that names the node and says what to look at', async () => {
  const exec = probeExec(new KubeConfig(), finder, { exec: fakeExec(() => {}).exec });
  await expect(exec.exec('node-7', ['route', '-n'])).rejects.toThrow('`route -n` on node node-7: no ready netlab-probe pod on the node');
});

test('a command that never finishes times out, naming node and command, and the connection is closed', async () => {
  const fake = fakeExec(() => {});
  const exec = probeExec(new KubeConfig(), finder, { exec: fake.exec });
  await expect(exec.exec('node-1', ['ipvsadm', '-Ln'], { timeoutMs: 50 })).rejects.toThrow('`ipvsadm -Ln` on node node-1: timed out after 50 ms');
  expect(fake.closed).toEqual([true]);
});

test('output beyond the limit is an error, not an unbounded buffer', async () => {
  const fake = fakeExec(({ stdout }, status) => {
    stdout.write('x'.repeat(100), (error) => {
      if (!error) status({ status: 'Success' });
    });
  });
  const exec = probeExec(new KubeConfig(), finder, { exec: fake.exec, maxOutputBytes: 10 });
  await expect(exec.exec('node-1', ['route', '-n'])).rejects.toThrow('`route -n` on node node-1: in pod netlab-system/netlab-probe-abcde: output exceeds 10 bytes');
});

test('exitCodeOf reads the status the exec API sends at the end', () => {
  expect(exitCodeOf({ status: 'Success' })).toBe(0);
  expect(exitCodeOf({ status: 'Failure', details: { causes: [{ reason: 'ExitCode', message: '137' }] } })).toBe(137);
  expect(() => exitCodeOf({ status: 'Failure', message: 'container not found ("probe")' })).toThrow('exec failed: container not found ("probe")');
});

test('a connection that fails names node, command and pod, with the reason the WebSocket gave (not "[object Object]")', async () => {
  // the exec call rejects with the WebSocket's error event, which is not an Error (seen from an operator Pod)
  const event = { type: 'error', message: 'Unexpected server response: 500', error: new Error('Unexpected server response: 500') };
  const exec = probeExec(new KubeConfig(), finder, { exec: { exec: () => Promise.reject(event) } as never });
  await expect(exec.exec('node-1', ['ip', '-o', 'addr'])).rejects.toThrow('`ip -o addr` on node node-1: in pod netlab-system/netlab-probe-abcde: Unexpected server response: 500');
});

test('rejectionText: an Error, an event with a message or an error, any other object as JSON', () => {
  expect(rejectionText(new Error('boom'))).toBe('boom');
  expect(rejectionText({ error: new Error('socket hang up') })).toBe('socket hang up');
  expect(rejectionText({ code: 500, reason: 'InternalError' })).toBe('{"code":500,"reason":"InternalError"}');
  expect(rejectionText('plain')).toBe('plain');
});
