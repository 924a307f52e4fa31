// The command line as a user runs it: a child process, its stdout and its exit code.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { jsonText } from '../../src/cli/io.ts';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const captures = join(root, 'test/fixtures/captures');
const snapshot = join(root, 'examples/seed/snapshot');
const observed = join(root, 'examples/seed/observed');

// Every scratch directory a test makes, removed once this file's tests are done.
const scratch: string[] = [];
function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function netlab(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [join(root, 'bin/netlab.js'), ...args], { encoding: 'utf8', input, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('netlab parse', () => {
  const counts: Record<string, [string, number, number]> = {
    // file: [format, services or routes, real servers]
    'seed-route-n.txt': ['route', 8, 0],
    'vm-route-n.txt': ['route', 9, 0],
    'seed-ipvsadm-Ln.txt': ['ipvsadm', 2, 5],
    'vm-ipvsadm-Ln.txt': ['ipvsadm', 17, 26],
    'vm-ipvsadm-Ln-stats.txt': ['ipvsadm', 17, 26],
    'vm-ipvsadm-Ln-rate.txt': ['ipvsadm', 17, 26],
    'vm-ipvsadm-S-n.txt': ['ipvsadm', 17, 26],
    'vm-ipvsadm-Ln-one-service.txt': ['ipvsadm', 1, 2],
    'seed-resolv.conf': ['resolv', 1, 3],
    // [format, addresses, IPv4 addresses]
    'vm-ip-o-addr.txt': ['ip-addr', 15, 9],
  };

  test.each(Object.entries(counts))('%s parses with the right counts and JSON shape', (file, [format, top, inner]) => {
    const r = netlab(['parse', format, join(captures, file), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    if (format === 'route') {
      expect(json.routes).toHaveLength(top);
      expect(Object.keys(json.routes[0]).sort()).toEqual(['destination', 'flags', 'gateway', 'genmask', 'iface', 'metric', 'ref', 'use']);
      expect(typeof json.routes[0].metric).toBe('number');
    } else if (format === 'ipvsadm') {
      expect(json.services).toHaveLength(top);
      expect(json.services.reduce((n: number, s: { realServers: unknown[] }) => n + s.realServers.length, 0)).toBe(inner);
      for (const key of ['protocol', 'address', 'port', 'fwmark', 'scheduler', 'persistent', 'netmask', 'flags', 'realServers']) expect(json.services[0]).toHaveProperty(key);
      for (const key of ['address', 'port', 'forward', 'weight', 'activeConn', 'inactConn']) expect(json.services[0].realServers[0]).toHaveProperty(key);
    } else if (format === 'ip-addr') {
      expect(json.addresses).toHaveLength(top);
      expect(json.addresses.filter((a: { family: string }) => a.family === 'IPv4')).toHaveLength(inner);
      expect(Object.keys(json.addresses[0]).sort()).toEqual(['address', 'broadcast', 'family', 'flags', 'iface', 'index', 'label', 'metric', 'peer', 'prefixLength', 'scope']);
    } else {
      expect(json).toEqual({ nameservers: ['10.96.0.10'], search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: { ndots: '5' } });
      expect(json.nameservers).toHaveLength(top);
      expect(json.search).toHaveLength(inner);
    }
  });

  test('every capture of route -n, ipvsadm, resolv.conf and ip -o addr is covered by the table above', () => {
    // netns-* files are the parser's own edge cases (test/parse); ip-route and --timeout are other formats.
    const files = readdirSync(captures).filter((f) => (f.endsWith('.txt') || f.endsWith('.conf')) && !f.startsWith('netns-'));
    // kube-proxy's nftables and iptables captures: test/cli/kube-proxy-formats.test.ts
    const uncovered = files.filter((f) => !(f in counts) && !/timeout|ip-route|ip-6-route|^vm-kube-proxy-/.test(f));
    expect(uncovered).toEqual([]);
  });

  test('--json into a pipe is one compact line (a program reads it); at a terminal it is indented', () => {
    const r = netlab(['parse', 'resolv', join(captures, 'seed-resolv.conf'), '--json']);
    expect(r.stdout).toBe('{"nameservers":["10.96.0.10"],"search":["default.svc.cluster.local","svc.cluster.local","cluster.local"],"options":{"ndots":"5"}}\n');
    expect(jsonText({ a: [1] }, { isTTY: true })).toBe('{\n  "a": [\n    1\n  ]\n}\n');
    expect(jsonText({ a: [1] }, { isTTY: false })).toBe('{"a":[1]}\n');
  });

  test('reads standard input; unparsable input exits 2 naming the line', () => {
    const ok = netlab(['parse', 'route', '-'], readFileSync(join(captures, 'seed-route-n.txt'), 'utf8'));
    expect(JSON.parse(ok.stdout).routes).toHaveLength(8);
    const bad = netlab(['parse', 'ipvsadm', '-'], 'TCP  10.96.0.1:443 rr\nhello world\n');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/<stdin>:2.*hello world/s);
  });
});

describe('netlab check (offline)', () => {
  test('the seed example matches: exit 0', () => {
    const r = netlab(['check', '--snapshot', snapshot, '--observed', observed, '--layers', 'routes,ipvs,resolvconf']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/routes\s+PASS/);
  });

  test('findings: exit 1, and --json carries them', () => {
    const dir = scratchDir('netlab-cli-');
    cpSync(observed, dir, { recursive: true });
    const routeFile = join(dir, 'node-1/route-n.txt');
    writeFileSync(routeFile, readFileSync(routeFile, 'utf8').split('\n').filter((l) => !l.startsWith('10.244.0.138')).join('\n'));
    const r = netlab(['check', '--snapshot', snapshot, '--observed', dir, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.layers.routes.findings.map((f: { key: string; kind: string }) => `${f.kind} ${f.key}`)).toEqual(['missing 10.244.0.138/32']);
  });

  test('an unparsable route-n.txt: exit 2, and the report says what was not checked and why instead of "everything matches"', () => {
    const dir = scratchDir('netlab-cli-');
    cpSync(observed, dir, { recursive: true });
    writeFileSync(join(dir, 'node-1/route-n.txt'), 'Kernel IP routing table\nthis is not a route\n');
    const r = netlab(['check', '--snapshot', snapshot, '--observed', dir, '--layers', 'routes,ipvs']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/routes\s+UNKNOWN/);
    expect(r.stdout).toMatch(/Not checked \(some input could not be read: exit code 2\)\n  routes: node node-1: .*this is not a route/s);
    expect(r.stdout).not.toContain('everything observed matches');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('No findings in what was checked, but not everything was checked (above).');
  });

  test('a layer with nothing observed (no dns.json) is named as not checked; what was checked matches: exit 0', () => {
    const r = netlab(['check', '--snapshot', snapshot, '--observed', observed, '--layers', 'routes,dns']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Not checked\n  dns: no DNS answers were observed/);
    expect(r.stdout).not.toContain('everything observed matches');
  });

  test('usage and input errors: exit 2 with one clear line', () => {
    const missing = netlab(['check', '--snapshot', snapshot, '--observed', '/nonexistent/obs']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/\/nonexistent\/obs/);
    const dir = scratchDir('netlab-cli-');
    mkdirSync(join(dir, 'node-9'));
    writeFileSync(join(dir, 'node-9/route-n.txt'), readFileSync(join(captures, 'seed-route-n.txt')));
    const unknownNode = netlab(['check', '--snapshot', snapshot, '--observed', dir]);
    expect(unknownNode.code).toBe(2);
    expect(unknownNode.stderr).toMatch(/node "node-9".*not in the snapshot/);
    expect(netlab(['check', '--observed', dir]).code).toBe(2);
  });
});

describe('netlab expect and explain', () => {
  test('expect --format route prints exactly the CNI rows of the real node-1 capture', () => {
    const r = netlab(['expect', '--snapshot', snapshot, '--node', 'node-1', '--format', 'route']);
    expect(r.code).toBe(0);
    const real = readFileSync(join(observed, 'node-1/route-n.txt'), 'utf8').split('\n');
    const rows = r.stdout.split('\n').slice(2).filter(Boolean);
    expect(rows).toHaveLength(6);
    for (const row of rows) expect(real).toContain(row);
    expect(r.stderr).toBe('netlab: CNI: Calico (1 IP pool, 3 IPAM blocks, projectcalico.org annotations on 3 nodes)\n'
      + 'netlab: which Calico runs is not known (no ClusterInformation default with spec.calicoVersion), so pod routes are expected with metric 0, as Calico before v3.32 programs them (v3.32 and later: 1024); the metric is not compared\n');
  });

  test.each([
    ['v3.32.1', 1024],
    ['v3.31.7', 0],
  ])('expect --format route on the real Calico v3.32.1 capture with calicoVersion %s prints the pod route with metric %i', (version, metric) => {
    // The capture holds no ClusterInformation; the one added here is what calico-node's startup writes. With v3.32.1 the
    // row is the real route -n row byte for byte (test/fixtures/calico-v3.32.1/ipip/observed/node-1/route-n.txt line 7).
    const dir = scratchDir('netlab-calico-');
    cpSync(join(root, 'test/fixtures/calico-v3.32.1/ipip/snapshot'), dir, { recursive: true });
    writeFileSync(join(dir, 'clusterinformation.yaml'), `apiVersion: crd.projectcalico.org/v1\nkind: ClusterInformation\nmetadata:\n  name: default\nspec:\n  calicoVersion: ${version}\n  clusterType: k8s,kdd\n`);
    const r = netlab(['expect', '--snapshot', dir, '--node', 'node-1', '--format', 'route']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((line) => line.startsWith('10.244.25.1 '))).toEqual([`10.244.25.1     0.0.0.0         255.255.255.255 UH    ${String(metric).padEnd(6)} 0        0 cali5e1c4d6c68c`]);
    expect(r.stderr).toBe('netlab: CNI: Calico (1 IP pool, 3 IPAM blocks, projectcalico.org annotations on 3 nodes)\n'); // the version was read: nothing assumed
  });

  test('expect --format ipvsadm round-trips through the parser', () => {
    const text = netlab(['expect', '--snapshot', snapshot, '--node', 'node-1', '--format', 'ipvsadm']).stdout;
    const parsed = JSON.parse(netlab(['parse', 'ipvsadm', '-'], text).stdout);
    expect(parsed.services.map((s: { protocol: string; port: number }) => `${s.protocol}:${s.port}`)).toEqual(['TCP:443', 'TCP:53', 'TCP:9153', 'UDP:53']);
  });

  test('expect --format resolv gives the pod file with ndots:5', () => {
    const r = netlab(['expect', '--snapshot', snapshot, '--format', 'resolv', '--namespace', 'team-a']);
    expect(r.stdout).toBe('search team-a.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
  });

  test('explain without a snapshot annotates by shape; with one it guesses the node and checks', () => {
    const route = readFileSync(join(observed, 'node-1/route-n.txt'), 'utf8');
    const plain = netlab(['explain', '-', '--format', 'route'], route);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/Default route/);
    const checked = netlab(['explain', '-', '--format', 'route', '--snapshot', snapshot], route);
    expect(checked.code).toBe(0);
    expect(checked.stderr).toContain('node-1 fits this output best');
    expect(checked.stdout).toMatch(/live on node node-2/);
  });

  test('--help teaches: it names the tools, an example and the exit codes', () => {
    const help = netlab(['--help']).stdout;
    expect(help).toMatch(/route -n/);
    expect(help).toMatch(/ipvsadm -Ln/);
    expect(help).toMatch(/Exit codes:\s+0 everything/);
    expect(netlab(['check', '--help']).stdout).toMatch(/kubectl get nodes,pods,services,endpointslices/);
  });
});

describe('netlab demo (npm start)', () => {
  test('runs from the project alone, passes the real observation and finds each injected fault', () => {
    const r = netlab(['demo', '--no-explain']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Pass 1[\s\S]*routes\s+PASS[\s\S]*ipvs\s+PASS[\s\S]*Pass 2/);
    const pass2 = r.stdout.slice(r.stdout.indexOf('Pass 2'));
    expect(pass2).toMatch(/\[routes\/missing\] Route 10\.244\.2\.0\/24/);
    expect(pass2).toMatch(/\[ipvs\/unexpected\] Real server 10\.244\.0\.139:53/);
    expect(pass2).toMatch(/\[ipvs\/mismatch\] Virtual server TCP 10\.96\.0\.1:443.*scheduler is "sh"/);
    expect(pass2).toMatch(/\[resolvconf\/mismatch\].*ndots/);
    expect(pass2).toMatch(/Findings \(4\)/);
  });
});

describe('netlab demo --proxy-mode: the seed cluster with kube-proxy in another mode', () => {
  test.each([
    ['nftables', 'nft list table ip kube-proxy', /service-NWBZK7IH-kube-system\/kube-dns\/tcp\/dns-tcp/],
    ['iptables', 'iptables-save', /-A KUBE-SVC-ERIFXISQEP7F7OF4 .*"kube-system\/kube-dns:dns-tcp -> 10\.244\.0\.137:53" -m statistic --mode random --probability 0\.50000000000/],
  ])('%s: node-1\'s %s is the model\'s, said so; the faults of ipvsadm -Ln are left out, the others found', (mode, tool, kubeDns) => {
    const r = netlab(['demo', '--no-explain', '--proxy-mode', mode]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`kube-proxy ${mode} (--proxy-mode; the article's runs IPVS)`);
    expect(r.stdout).toContain(`No capture of this cluster in ${mode} mode exists`);
    const pass1 = r.stdout.slice(r.stdout.indexOf('Pass 1'), r.stdout.indexOf('Pass 2'));
    expect(pass1).toContain(`== node-1: ${tool} — expected only (nothing observed) ==`);
    expect(pass1).toMatch(kubeDns);
    expect(pass1).not.toContain('ipvsadm');
    const pass2 = r.stdout.slice(r.stdout.indexOf('Pass 2'));
    expect(pass2).toContain(`(left out: stale real server, wrong scheduler; they edit ipvsadm-Ln, which ${mode} mode does not read)`);
    expect(pass2).toMatch(/\[routes\/missing\] Route 10\.244\.2\.0\/24/);
    expect(pass2).toMatch(/Findings \(2\)/);
  });
});

describe('the edges of a process', () => {
  test('a reader that closes the pipe early ends netlab quietly, with the status SIGPIPE gives (141)', async () => {
    const child = spawn(process.execPath, [join(root, 'bin/netlab.js'), 'check', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before netlab writes its first line
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(141);
  });

  test('output longer than the pipe holds, read by `head -c 16`: no error; under pipefail the status is 141', () => {
    const services = Array.from({ length: 2000 }, (_, i) => `TCP  10.96.${i >> 8}.${i & 255}:80 rr\n  -> 10.244.0.1:8080              Masq    1      0          0         `);
    const dir = scratchDir('netlab-cli-');
    writeFileSync(join(dir, 'ipvsadm-Ln.txt'), `IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n${services.join('\n')}\n`);
    const script = `set -o pipefail; "${process.execPath}" "${join(root, 'bin/netlab.js')}" parse ipvsadm "${join(dir, 'ipvsadm-Ln.txt')}" --json | head -c 16`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(r.stdout).toBe('{"services":[{"p');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(141);
  });

  test('`npx netlab` under the machine\'s own Node and npm prints nothing but netlab\'s output (no EBADENGINE warnings)', () => {
    // npm scripts put node_modules/.bin (with the project's Node 24) first on PATH: leave it out, as a user's shell does
    const PATH = (process.env.PATH ?? '').split(':').filter((dir) => !dir.includes('node_modules')).join(':');
    const npx = spawnSync('npx', ['--version'], { encoding: 'utf8', env: { ...process.env, PATH } });
    if (npx.status !== 0) return; // no npm on this machine
    const cache = scratchDir('netlab-npm-cache-');
    const r = spawnSync('npx', ['netlab', '--version'], { cwd: root, encoding: 'utf8', env: { ...process.env, PATH, npm_config_cache: cache, npm_config_update_notifier: 'false' } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0.1.0\n');
  });
});

test('a live check the cluster refuses (RBAC) ends with one line naming the request and the reason, exit 2', async () => {
  // a fake apiserver on loopback: it answers /version and refuses every list, as RBAC would
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/version' ? 200 : 403, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url === '/version' ? { gitVersion: 'v1.37.2' }
      : { kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: `${req.url} is forbidden: User "student" cannot list it` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const dir = scratchDir('netlab-cli-');
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'fake',
      clusters: [{ name: 'fake', cluster: { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'student', user: { token: 't' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'student' } }],
    }));
    const child = spawn(process.execPath, [join(root, 'bin/netlab.js'), 'check', '--kubeconfig', kubeconfig], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).toMatch(/^netlab: the cluster refused: GET \/api\/v1\/[a-z]+\?limit=500: 403 Forbidden: .* is forbidden: User "student" cannot list it\n$/);
    expect(code).toBe(2);
  } finally {
    server.close();
  }
});

describe('what a command loads', () => {
  /** The packages a run of netlab loads, as a module resolve hook sees them (it appends to a file: it runs on its own thread). */
  function packagesLoaded(args: string[]): Set<string> {
    const dir = scratchDir('netlab-loads-');
    const log = join(dir, 'loaded.txt');
    writeFileSync(log, '');
    writeFileSync(join(dir, 'hook.mjs'), `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  const match = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(result.url);
  if (match) appendFileSync(${JSON.stringify(log)}, match[1] + '\\n');
  return result;
}\n`);
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${dir}/hook.mjs`)});\n`);
    spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), join(root, 'bin/netlab.js'), ...args], { encoding: 'utf8' });
    return new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean));
  }
  const route = join(captures, 'seed-route-n.txt');

  test.each([
    ['--help', ['--help']],
    ['parse route FILE --json', ['parse', 'route', route, '--json']],
    ['explain FILE --format route', ['explain', route, '--format', 'route']],
  ])('netlab %s loads commander only: not the Kubernetes client, undici or yaml', (_name, args) => {
    expect([...packagesLoaded(args)]).toEqual(['commander']);
  });

  test('the live check does load the Kubernetes client (the hook sees it)', () => {
    expect(packagesLoaded(['check', '--kubeconfig', '/nonexistent/kubeconfig']).has('@kubernetes/client-node')).toBe(true);
  });
});

test('bin/netlab.js refuses an old Node with one clear line', () => {
  const old = '/usr/bin/node';
  let version = '';
  try {
    version = execFileSync(old, ['--version'], { encoding: 'utf8' });
  } catch {
    return; // no system Node on this machine: nothing to check
  }
  const r = spawnSync(old, [join(root, 'bin/netlab.js'), '--help'], { encoding: 'utf8' });
  if (/^v(2[3-9]|22\.(1[89]|[2-9]\d))/.test(version)) expect(r.status).toBe(0);
  else expect(r.stderr).toMatch(/needs Node.js 22.18 or newer/);
});

describe('netlab explain --service', () => {
  test('one Service in IPVS, nftables and iptables mode side by side, the endpoint choice once', () => {
    const r = netlab(['explain', '--service', 'kube-system/kube-dns', '--snapshot', snapshot, '--node', 'node-1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const headings = r.stdout.split('\n').filter((l) => l.startsWith('== '));
    expect(headings).toEqual([
      '== the endpoint choice (the same in every mode) ==',
      '== IPVS mode: ipvsadm -Ln (the mode kube-proxy is configured with) ==',
      '== nftables mode: nft list table ip kube-proxy ==',
      '== iptables mode: iptables-save ==',
    ]);
    expect(r.stdout).toContain('TCP  10.96.0.10:53 rr');
    expect(r.stdout).toContain('meta l4proto udp dnat ip to numgen random mod 2 map { 0 : 10.244.0.137 . 53, 1 : 10.244.0.138 . 53 }');
    expect(r.stdout).toMatch(/-A KUBE-SVC-[A-Z2-7]{16} -m comment --comment "kube-system\/kube-dns:dns -> 10\.244\.0\.137:53" -m statistic --mode random --probability 0\.50000000000 -j KUBE-SEP-/);
    // the endpoint choice is printed once, not per mode
    expect(r.stdout.split('10.244.0.137:53  pod kube-system/coredns-78fcd69978-9v6wz').length - 1).toBe(2);
  });

  test('a Service the snapshot does not have, or a malformed name: exit 2 with one line', () => {
    const missing = netlab(['explain', '--service', 'default/nope', '--snapshot', snapshot]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Service default/nope is not in the snapshot');
    expect(netlab(['explain', '--service', 'nope', '--snapshot', snapshot]).stderr).toContain('--service takes NAMESPACE/NAME');
  });
});
