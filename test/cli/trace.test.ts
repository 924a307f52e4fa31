// `netlab trace` as a user runs it: a child process on the seed example, its output and exit code.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const snapshot = join(root, 'examples/seed/snapshot');
const observed = join(root, 'examples/seed/observed');

function netlab(args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin/netlab.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('netlab trace (offline)', () => {
  test('prints every hop with its verdict word; exit 0 when nothing is broken', () => {
    const r = netlab(['trace', '--snapshot', snapshot, '--observed', observed, '--from', 'default/rpc-75d9b7d7c9-x7m4q', '--to', 'kube-dns.kube-system']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('query 1 [NOT OBSERVED] kube-dns.kube-system.default.svc.cluster.local A -> NXDOMAIN');
    expect(r.stdout).toContain(' 4. [NOT OBSERVED] route on node-2');
    expect(r.stdout).toContain('outer header: 10.130.29.81 -> 10.130.29.80, IP-in-IP (IP protocol 4), device tunl0');
    expect(r.stdout).toContain(' 6. [OK] route on node-1');
  });

  test('--json gives the same hops as data', () => {
    const r = netlab(['trace', '--snapshot', snapshot, '--observed', observed, '--from', 'rpc-75d9b7d7c9-2zzrx', '--to', '10.96.0.10:53', '--protocol', 'UDP', '--json']);
    expect(r.code).toBe(0);
    const trace = JSON.parse(r.stdout);
    expect(trace.hops.map((h: { kind: string }) => h.kind)).toEqual(['source', 'service', 'route', 'deliver', 'route', 'reply']);
    expect(trace.hops[1].frontend).toEqual({ protocol: 'UDP', address: '10.96.0.10', port: 53 });
  });

  test('a broken route: exit 1 and the hop says why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-trace-'));
    cpSync(observed, dir, { recursive: true });
    const file = join(dir, 'node-1/route-n.txt');
    writeFileSync(file, readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith('10.244.0.137 ')).join('\n'));
    const r = netlab(['trace', '--snapshot', snapshot, '--observed', dir, '--from', 'rpc-75d9b7d7c9-2zzrx', '--to', '10.244.0.137:53']);
    rmSync(dir, { recursive: true, force: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[BROKEN] route on node-1');
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('why BROKEN: node-1 drops the packet: the best match for 10.244.0.137 is the blackhole 10.244.0.0/24');
  });

  test('usage errors: exit 2 with one clear line', () => {
    const r = netlab(['trace', '--snapshot', snapshot, '--from', 'default/nope', '--to', 'kube-dns']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('netlab: --from default/nope: no pod nope in namespace default in the snapshot\n');
    const noSnapshot = netlab(['trace', '--observed', observed, '--from', 'x', '--to', 'y']);
    expect(noSnapshot.stderr).toContain('--observed needs --snapshot');
  });
});

describe('netlab ui', () => {
  test('serves the page on the port it prints, and stops on Ctrl-C with exit 0', async () => {
    const child = spawn(process.execPath, [join(root, 'bin/netlab.js'), 'ui', '--snapshot', snapshot, '--observed', observed, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const found = /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (found) resolve(found[1]!);
        });
        child.once('exit', (code) => reject(new Error(`netlab ui exited with ${code} before serving: ${out}`)));
      });
      const state = await (await fetch(new URL('/api/state', url))).json();
      expect(state.origin).toBe(`offline: ${snapshot} observed in ${observed}`);
      expect(state.cluster.nodes.map((n: { name: string }) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('without a cluster, the live page says what is missing: exit 2', () => {
    const r = netlab(['ui', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^netlab: cannot load the kubeconfig \/nonexistent\/kubeconfig/);
  });
});
