import { parseNftTable, parseNftTables } from '../../src/parse/nft.ts';
import { readCapture } from '../fixtures/captures/read.ts';
import { parseErrorOf } from './parse-error.ts';

describe('parseNftTable', () => {
  // real nft 1.0.6 output (see the captures README)
  const table = parseNftTable(readCapture('netns-nft-list-table.txt'), 'netns-nft-list-table.txt');

  test('reads the table, its sets and maps with their elements, and its chains with hook lines and rules', () => {
    expect(table).toMatchObject({ family: 'ip', name: 'kube-proxy', comment: 'rules for kube-proxy' });
    expect(table.sets.map((s) => `${s.kind} ${s.name}`)).toEqual([
      'set cluster-ips', 'map no-endpoint-nodeports', 'map service-ips', 'map service-nodeports', 'set affinity-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80',
    ]);
    // elements wrapped over two lines, with comments and verdicts
    expect(table.sets[1]!.elements).toEqual([
      { key: 'udp . 3002', comment: 'ns2/svc2:p80', value: 'goto reject-chain' },
      { key: 'tcp . 3003', comment: 'ns2/svc2:p81', value: 'drop' },
    ]);
    expect(table.sets[4]).toMatchObject({ type: 'ipv4_addr', flags: ['dynamic', 'timeout'], timeout: '3h', elements: [] });
    const service = table.chains.find((c) => c.name === 'service-ULMVA6XW-ns1/svc1/tcp/p80')!;
    expect(service.hook).toBeNull();
    expect(service.rules[2]).toBe('numgen random mod 2 vmap { 0 : goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80, 1 : goto endpoint-6OJB2KTY-ns1/svc1/tcp/p80__10.180.0.2/80 }');
    expect(table.chains.find((c) => c.name === 'nat-postrouting')).toEqual({ name: 'nat-postrouting', hook: 'type nat hook postrouting priority srcnat; policy accept;', comment: null, rules: ['jump masquerading'] });
    expect(table.chains.find((c) => c.name === 'reject-chain')).toMatchObject({ comment: 'helper for @no-endpoint-services / @no-endpoint-nodeports', rules: ['reject'] });
    expect(table.chains.find((c) => c.name === 'endpoint-6OJB2KTY-ns1/svc1/tcp/p80__10.180.0.2/80')!.rules).toEqual([]);
  });

  test('handles, wrapped rules, per-element timeouts and several tables (nft list ruleset)', () => {
    const text = 'table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n'
      + 'table ip kube-proxy {\n\tset affinity-x {\n\t\ttype ipv4_addr\n\t\tflags dynamic,timeout\n\t\ttimeout 3h\n\t\telements = { 10.0.0.7 timeout 3h expires 2h59m58s }\n\t}\n'
      + '\tchain c {\n\t\tnumgen random mod 2 vmap { 0 : goto a,\n\t\t\t1 : goto b } # handle 7\n\t}\n}\n';
    expect(parseNftTables(text).map((t) => `${t.family} ${t.name}`)).toEqual(['inet filter', 'ip kube-proxy']);
    const kp = parseNftTable(text);
    expect(kp.sets[0]!.elements).toEqual([{ key: '10.0.0.7', comment: null, value: null }]);
    expect(kp.chains[0]!.rules).toEqual(['numgen random mod 2 vmap { 0 : goto a, 1 : goto b }']);
  });

  test('elements with and without values, comments holding " : " and commas, handles only when followed by a number', () => {
    const text = 'table ip kube-proxy {\n\tmap m {\n\t\ttype ipv4_addr : verdict\n'
      + '\t\telements = { 10.0.0.1, 10.0.0.2 : drop, 10.0.0.3 comment "a : b, c" : goto x,\n\t\t\t     10.0.0.4 timeout 3h expires 1h : drop }\n\t}\n'
      + '\tchain c {\n\t\tjump a # handle 12\n\t\tjump b comment "# handle here"\n\t}\n}\n';
    const table = parseNftTable(text);
    expect(table.sets[0]!.elements).toEqual([
      { key: '10.0.0.1', comment: null, value: null },
      { key: '10.0.0.2', comment: null, value: 'drop' },
      { key: '10.0.0.3', comment: 'a : b, c', value: 'goto x' },
      { key: '10.0.0.4', comment: null, value: 'drop' },
    ]);
    expect(table.chains[0]!.rules).toEqual(['jump a', 'jump b comment "# handle here"']);
  });

  test.each([
    ['table ip kube-proxy {\n\tflowtable f {\n\t}\n}\n', 2, /set, map or chain/],
    ['table ip kube-proxy {\n\tset s {\n\t\ttype ipv4_addr\n\t\tbogus 1\n\t}\n}\n', 4, /unknown set property "bogus"/],
    ['table ip kube-proxy {\n\tchain c {\n\t\tjump x\n', 3, /ends inside a block/],
    ['hello\n', 1, /expected "table FAMILY NAME \{"/],
  ])('a listing it cannot read is an error naming the line (%#)', (text, line, reason) => {
    const error = parseErrorOf(() => parseNftTables(text, 'node-1:nft'));
    expect(error.line).toBe(line);
    expect(error.message).toMatch(reason);
    expect(error.message).toContain('node-1:nft');
  });

  test('a listing without the kube-proxy table says which tables it has', () => {
    expect(() => parseNftTable('table inet filter {\n}\n', 'n1')).toThrow('n1: no table ip kube-proxy in the nft listing (tables: inet filter)');
  });
});

describe('parseNftTable on the real kube-proxy v1.37.2 (nftables mode)', () => {
  const table = parseNftTable(readCapture('vm-kube-proxy-nftables.txt'), 'vm-kube-proxy-nftables.txt');

  test('every set, map and chain kube-proxy made, with wrapped element lists and the affinity sets\' storage size read past', () => {
    expect(table.sets.filter((s) => !s.name.startsWith('affinity-')).map((s) => `${s.kind} ${s.name} ${s.elements.length}`)).toEqual([
      'set hairpin-connections 4', 'set cluster-ips 8', 'set nodeport-ips 1', 'map no-endpoint-services 4', 'map no-endpoint-nodeports 2',
      'map firewall-ips 0', 'map service-ips 7', 'map service-nodeports 3',
    ]);
    expect(table.sets.filter((s) => s.name.startsWith('affinity-')).map((s) => [s.flags, s.timeout])).toEqual([[['dynamic', 'timeout'], '10m'], [['dynamic', 'timeout'], '10m'], [['dynamic', 'timeout'], '10m']]);
    expect(table.chains.filter((c) => c.hook !== null).map((c) => c.name)).toEqual([
      'filter-prerouting-pre-dnat', 'filter-output-pre-dnat', 'filter-input', 'filter-forward', 'filter-output', 'nat-prerouting', 'nat-output', 'nat-postrouting',
    ]);
    expect(table.sets.find((s) => s.name === 'no-endpoint-nodeports')!.elements).toContainEqual({ key: 'tcp . 30475', comment: 'nftables-5afe/remote-np:http', value: 'drop' });
  });
});
