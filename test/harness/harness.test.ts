// The harness's own contracts, without the Kubernetes binaries: finding binaries, reporting a failed
// start, stopping whole process groups, and the certificates it issues.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findBinaries } from '../../harness/control-plane/binaries.ts';
import { isAlive } from '../../harness/control-plane/instances.ts';
import { createCa, issueClientCert, issueServingCert } from '../../harness/control-plane/pki.ts';
import { startProcess, stopProcess, waitUntilReady } from '../../harness/control-plane/processes.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'netlab-harness-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('findBinaries', () => {
  const saved = process.env.NETLAB_CACHE_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.NETLAB_CACHE_DIR;
    else process.env.NETLAB_CACHE_DIR = saved;
  });

  test('names every missing binary and tool in one line', () => {
    process.env.NETLAB_CACHE_DIR = dir;
    mkdirSync(path.join(dir, 'bin'));
    for (const name of ['etcd', 'coredns']) {
      writeFileSync(path.join(dir, 'bin', name), '#!/bin/sh\n');
      chmodSync(path.join(dir, 'bin', name), 0o755);
    }
    const found = findBinaries(undefined, ['openssl', 'no-such-tool-netlab']);
    expect(found).toEqual({
      ok: false,
      missing: ['kube-apiserver', 'kube-controller-manager', 'no-such-tool-netlab'],
      reason: `kube-apiserver, kube-controller-manager not built in ${dir}/bin (run \`npm run harness:build\`); no-such-tool-netlab not installed (not on PATH)`,
    });
  });

  test('returns the paths when everything is there', () => {
    process.env.NETLAB_CACHE_DIR = dir;
    mkdirSync(path.join(dir, 'bin'));
    writeFileSync(path.join(dir, 'bin', 'etcd'), '#!/bin/sh\n');
    chmodSync(path.join(dir, 'bin', 'etcd'), 0o755);
    expect(findBinaries(['etcd'], ['sh'])).toEqual({ ok: true, paths: { etcd: path.join(dir, 'bin', 'etcd'), sh: expect.stringMatching(/\/sh$/) } });
  });
});

describe('managed processes', () => {
  test('a process that exits during startup fails with its name, command, exit code and log tail', async () => {
    const script = 'for i in $(seq 1 30); do echo line $i; done; exit 3';
    const proc = startProcess('demo-component', ['/bin/sh', '-c', script], path.join(dir, 'demo.log'), dir);
    const failure = waitUntilReady(proc, 'demo /ready', async () => false, 10_000);
    await expect(failure).rejects.toThrow('demo-component failed to start: exit code 3 before demo /ready');
    const message = await failure.then(() => '', (err: Error) => err.message);
    expect(message).toContain(`command: /bin/sh -c ${script}`);
    expect(message).toContain(`last 20 lines of ${path.join(dir, 'demo.log')}:\n  line 11\n`);
    expect(message.trimEnd().endsWith('  line 30')).toBe(true);
    expect(message).not.toContain('line 10\n');
  });

  test('a process that never gets ready fails after the timeout', async () => {
    const proc = startProcess('sleepy', ['/bin/sleep', '30'], path.join(dir, 'sleepy.log'), dir);
    await expect(waitUntilReady(proc, 'sleepy /healthz', async () => false, 200)).rejects.toThrow('sleepy failed to start: sleepy /healthz not reached within 0.2 s');
    await stopProcess(proc, 1000);
  });

  test('stop ends the whole process group, children included, and escalates to SIGKILL', async () => {
    // The shell ignores SIGTERM and leaves a child behind: only a group SIGKILL ends both.
    const proc = startProcess('stubborn', ['/bin/sh', '-c', 'trap "" TERM; sleep 60 & echo $! > child.pid; wait'], path.join(dir, 'stubborn.log'), dir);
    await waitUntilReady(proc, 'child started', async () => {
      try {
        return execFileSync('cat', [path.join(dir, 'child.pid')]).toString().trim() !== '';
      } catch {
        return false;
      }
    }, 5000);
    const child = Number(execFileSync('cat', [path.join(dir, 'child.pid')]).toString());
    const began = Date.now();
    await stopProcess(proc, 300);
    expect(Date.now() - began).toBeGreaterThanOrEqual(300);
    expect(isAlive(proc.pid)).toBe(false);
    // The group's SIGKILL reaches the child at once, but its exit can lag the leader's on a busy machine (seen
    // in CI): give it 2 s, far less than the 60 s it would live if it had been missed.
    for (let waited = 0; isAlive(child) && waited < 2000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(isAlive(child)).toBe(false); // gone, or a zombie waiting for init to reap it
  });
});

const openssl = findBinaries([], ['openssl']);
(openssl.ok ? describe : describe.skip)('harness certificates (openssl)', () => {
  const text = (cert: string) => execFileSync('openssl', ['x509', '-in', cert, '-noout', '-text']).toString();

  test('the serving certificate is signed by the CA and names loopback and the VM address', async () => {
    const pki = await createCa(dir, 'openssl');
    const pair = await issueServingCert(pki, 'kube-apiserver', { dnsNames: ['localhost'], ips: ['127.0.0.1', '10.0.2.100'] });
    expect(execFileSync('openssl', ['verify', '-CAfile', pki.caCert, pair.cert]).toString()).toContain(': OK');
    expect(text(pair.cert)).toMatch(/DNS:localhost, IP Address:127\.0\.0\.1, IP Address:10\.0\.2\.100/);
    expect(text(pair.cert)).toContain('TLS Web Server Authentication');
  });

  test('a client certificate carries the user as CN and each group as O', async () => {
    const pki = await createCa(dir, 'openssl');
    const pair = await issueClientCert(pki, 'admin', 'kubernetes-admin', ['system:masters', 'netlab:testers']);
    expect(execFileSync('openssl', ['verify', '-CAfile', pki.caCert, pair.cert]).toString()).toContain(': OK');
    expect(text(pair.cert)).toMatch(/Subject: CN ?= ?kubernetes-admin, O ?= ?system:masters, O ?= ?netlab:testers/);
    expect(text(pair.cert)).toContain('TLS Web Client Authentication');
  });

  test('a name openssl cannot carry is refused with the name', async () => {
    const pki = await createCa(dir, 'openssl');
    await expect(issueClientCert(pki, 'bad', 'a/b', [])).rejects.toThrow('user or group name "a/b" is empty or contains \'/\'');
  });
});
