// `netlab parse|expect|explain --format nft|iptables-save` on the real kube-proxy v1.37.2 captures
// (test/fixtures/captures/README.md: read in the node VM, with the snapshot taken in the same poll).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectedText } from '../../src/cli/commands/expect.ts';
import { parseNftTables } from '../../src/parse/nft.ts';
import type { NftTable } from '../../src/parse/types.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';
import { readCapture } from '../fixtures/captures/read.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const captures = join(root, 'test/fixtures/captures');

function netlab(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [join(root, 'bin/netlab.js'), ...args], { encoding: 'utf8', input, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const snapshotOf = (mode: string) => JSON.parse(readCapture(`vm-kube-proxy-${mode}-final-snapshot.json`)) as ClusterSnapshot;
const options = (node: string) => ({ node, namespace: 'default', dnsPolicy: 'ClusterFirst' });

describe('netlab parse nft|iptables-save', () => {
  test('the real nft listing: one table ip kube-proxy with its sets, maps and chains', () => {
    const r = netlab(['parse', 'nft', join(captures, 'vm-kube-proxy-nftables.txt'), '--json']);
    expect(r.code).toBe(0);
    const [table, ...more] = JSON.parse(r.stdout).tables;
    expect(more).toEqual([]);
    expect([table.family, table.name, table.comment]).toEqual(['ip', 'kube-proxy', 'rules for kube-proxy']);
    expect(table.sets.find((s: { name: string }) => s.name === 'cluster-ips').elements.length).toBeGreaterThan(0);
    expect(table.chains.find((c: { name: string }) => c.name === 'services').rules).toHaveLength(3);
  });

  test('the real iptables-save: its three tables, rules without "-A CHAIN"; unparsable input exits 2 naming the line', () => {
    const r = netlab(['parse', 'iptables-save', join(captures, 'vm-kube-proxy-iptables.txt'), '--json']);
    const tables = JSON.parse(r.stdout).tables;
    expect(tables.map((t: { name: string }) => t.name)).toEqual(['mangle', 'filter', 'nat']);
    expect(tables[2].chains.find((c: { name: string }) => c.name === 'KUBE-MARK-MASQ').rules).toEqual(['-j MARK --set-xmark 0x4000/0x4000']);
    const bad = netlab(['parse', 'iptables-save', '-'], '*nat\n-A KUBE-NOPE -j DROP\nCOMMIT\n');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/<stdin>:2: .*KUBE-NOPE/);
  });
});

describe('netlab explain --format nft|iptables-save without a snapshot', () => {
  test.each(['vm-kube-proxy-nftables.txt', 'vm-kube-proxy-nftables-final.txt'])('%s: every Service chain is explained with the Service its name carries; every rule is recognised', (file) => {
    const r = netlab(['explain', join(captures, file), '--format', 'nft']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const chains = lines.flatMap((l, i) => {
      const m = /^\s+chain (?:service|local|external|endpoint)-[A-Z2-7]{8}-([^/]+)\/([^/]+)\/(\w+)\/([^_ ]+)/.exec(l);
      return m ? [{ m, explanation: lines[i + 1]! }] : [];
    });
    expect(chains.length).toBeGreaterThan(5);
    for (const { m, explanation } of chains) expect(explanation).toContain(`Service ${m[1]}/${m[2]} port "${m[4]}" (${m[3]!.toUpperCase()})`);
    expect(r.stdout).not.toContain('does not recognise');
  });

  test.each(['vm-kube-proxy-iptables.txt', 'vm-kube-proxy-iptables-final.txt'])('%s: every KUBE-SVC/SVL/EXT/SEP chain names the Service port its rules\' comments name', (file) => {
    const text = readCapture(file);
    const r = netlab(['explain', join(captures, file), '--format', 'iptables-save']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const chains = lines.flatMap((l, i) => {
      const m = /^\s+:(KUBE-(?:SVC|SVL|EXT|SEP)-[A-Z2-7]{16}) /.exec(l);
      return m ? [{ chain: m[1]!, explanation: lines[i + 1]! }] : [];
    });
    expect(chains.length).toBeGreaterThan(10);
    for (const { chain, explanation } of chains) {
      // the Service port as kube-proxy's comments on the chain's rules name it
      const owner = new RegExp(`^-A ${chain} .*--comment "(?:[^"]* for )?([a-z0-9-]+)/([a-z0-9-]+):([a-z0-9-]+)`, 'm').exec(text)!;
      expect(explanation).toContain(`Service ${owner[1]}/${owner[2]} port "${owner[3]}"`);
    }
    expect(r.stdout).not.toMatch(/does not recognise|A chain of one Service port/);
  });
});

describe('netlab expect --format nft|iptables-save against the real output of the same snapshot', () => {
  /** The listing without what nft leaves to the kernel: the order of elements, sets and chains (rules keep theirs). */
  const normalised = (tables: NftTable[]) => tables.map((t) => ({
    ...t,
    sets: [...t.sets].sort((a, b) => a.name.localeCompare(b.name)).map((s) => ({ ...s, elements: [...s.elements].sort((a, b) => a.key.localeCompare(b.key)) })),
    chains: [...t.chains].sort((a, b) => a.name.localeCompare(b.name)),
  }));

  test('nft: the same table as the real one, but for the order of elements and chains, nft\'s line wrapping and "size 65535"', () => {
    const { text } = expectedText(snapshotOf('nftables'), 'nft', options('netlab-nftables-node'));
    const real = readCapture('vm-kube-proxy-nftables-final.txt');
    expect(normalised(parseNftTables(text))).toEqual(normalised(parseNftTables(real)));
    // the documented differences are really there (so the comparison above is not vacuous about them)
    expect(real).toContain('size 65535');
    expect(text).not.toContain('size 65535');
    expect(text).not.toBe(real);
  });

  test('iptables-save: the same lines as the real one, but for its "#" lines and the order of tables and of Services in shared chains', () => {
    const { text, notes } = expectedText(snapshotOf('iptables'), 'iptables-save', options('netlab-iptables-node'));
    const real = readCapture('vm-kube-proxy-iptables-final.txt');
    const lines = (t: string) => t.split('\n').filter((l) => l !== '' && !l.startsWith('#')).sort();
    expect(lines(text)).toEqual(lines(real));
    expect(notes.join(' ')).toMatch(/KUBE-SERVICES/);
  });

  test('the command prints the tool\'s text on stdout and its notes on stderr; its output checks clean against the same snapshot', () => {
    const snapshot = join(root, 'examples/seed/snapshot');
    const want = netlab(['expect', '--snapshot', snapshot, '--node', 'node-1', '--format', 'nft']);
    expect(want.code).toBe(0);
    expect(want.stdout).toMatch(/^table ip kube-proxy \{\n/);
    expect(want.stderr).toMatch(/^netlab: kube-proxy's tables for IPv4;/);
    const checked = netlab(['explain', '-', '--format', 'nft', '--snapshot', snapshot, '--node', 'node-1'], want.stdout);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/nftables\s+PASS/);
    const broken = netlab(['explain', '-', '--format', 'nft', '--snapshot', snapshot, '--node', 'node-1'], want.stdout.replace(/\t\tjump masquerading\n/, ''));
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/MISS\s+\t*jump masquerading/);
  });
});
