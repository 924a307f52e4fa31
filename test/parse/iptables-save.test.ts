import { parseIptablesSave } from '../../src/parse/iptables-save.ts';
import { readCapture } from '../fixtures/captures/read.ts';
import { parseErrorOf } from './parse-error.ts';

describe('parseIptablesSave', () => {
  test('reads the tables, chain policies and rules of real iptables-save output', () => {
    const save = parseIptablesSave(readCapture('netns-iptables-save.txt'));
    expect(save.tables.map((t) => t.name)).toEqual(['filter', 'nat']);
    const nat = save.tables[1]!;
    expect(nat.chains.find((c) => c.name === 'PREROUTING')).toEqual({ name: 'PREROUTING', policy: 'ACCEPT', rules: ['-m comment --comment "kubernetes service portals" -j KUBE-SERVICES'] });
    expect(nat.chains.find((c) => c.name === 'KUBE-SVC-XPGD46QRK7WJZT7O')!.rules).toHaveLength(4);
    expect(nat.chains.find((c) => c.name === 'KUBE-SEP-AAAAAAAAAAAAAAAA')).toEqual({ name: 'KUBE-SEP-AAAAAAAAAAAAAAAA', policy: '-', rules: [] });
  });

  test('packet counters (iptables-save -c) are read past', () => {
    const save = parseIptablesSave('*nat\n:PREROUTING ACCEPT [12:720]\n[3:180] -A PREROUTING -j KUBE-SERVICES\n:KUBE-SERVICES - [0:0]\nCOMMIT\n');
    expect(save.tables[0]!.chains[0]!.rules).toEqual(['-j KUBE-SERVICES']);
  });

  test.each([
    ['*nat\n-A KUBE-X -j DROP\nCOMMIT\n', 2, /did not declare/],
    ['*nat\n:A - [0:0]\n', 2, /not closed with COMMIT/],
    ['-A X -j DROP\n', 1, /outside any table/],
    ['*nat\n:A - [0:0]\n-I A -j DROP\nCOMMIT\n', 3, /expected a rule/],
  ])('bad input is an error naming the line (%#)', (text, line, reason) => {
    const error = parseErrorOf(() => parseIptablesSave(text, 'node-1:iptables-save'));
    expect(error.line).toBe(line);
    expect(error.message).toMatch(reason);
  });
});

describe('parseIptablesSave on the real kube-proxy v1.37.2 (iptables mode)', () => {
  test('its three tables, every rule kept as iptables-save printed it (nfacct\'s double space included)', () => {
    const text = readCapture('vm-kube-proxy-iptables.txt');
    const save = parseIptablesSave(text, 'vm-kube-proxy-iptables.txt');
    expect(save.tables.map((t) => t.name)).toEqual(['mangle', 'filter', 'nat']);
    const rules = save.tables.flatMap((t) => t.chains.flatMap((c) => c.rules));
    expect(rules).toHaveLength(text.split('\n').filter((l) => l.startsWith('-A ')).length);
    expect(rules).toContain('-m conntrack --ctstate INVALID -m nfacct --nfacct-name  ct_state_invalid_dropped_pkts -j DROP');
    expect(save.tables[0]!.chains.map((c) => c.name)).toContain('KUBE-PROXY-CANARY');
  });
});
