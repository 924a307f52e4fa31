import { parseNftTable } from '../../src/parse/nft.ts';
import { renderNftTable } from '../../src/render/nft.ts';
import { readCapture } from '../fixtures/captures/read.ts';

describe('renderNftTable', () => {
  test('the layout of nft list table: tab indents, one element per line under the first, a blank line between blocks', () => {
    const text = renderNftTable({
      family: 'ip', name: 'kube-proxy', comment: 'rules for kube-proxy',
      sets: [
        { kind: 'map', name: 'no-endpoint-nodeports', type: 'inet_proto . inet_service : verdict', flags: [], timeout: null, comment: 'vmap', elements: [
          { key: 'udp . 3002', comment: 'ns2/svc2:p80', value: 'goto reject-chain' },
          { key: 'tcp . 3003', comment: null, value: 'drop' },
        ] },
        { kind: 'set', name: 'affinity-x', type: 'ipv4_addr', flags: ['dynamic', 'timeout'], timeout: '3h', comment: null, elements: [] },
      ],
      chains: [{ name: 'nat-output', hook: 'type nat hook output priority -100; policy accept;', comment: null, rules: ['jump services'] }],
    });
    expect(text).toBe([
      'table ip kube-proxy {',
      '\tcomment "rules for kube-proxy"',
      '\tmap no-endpoint-nodeports {',
      '\t\ttype inet_proto . inet_service : verdict',
      '\t\tcomment "vmap"',
      '\t\telements = { udp . 3002 comment "ns2/svc2:p80" : goto reject-chain,',
      '\t\t\t     tcp . 3003 : drop }',
      '\t}',
      '',
      '\tset affinity-x {',
      '\t\ttype ipv4_addr',
      '\t\tflags dynamic,timeout',
      '\t\ttimeout 3h',
      '\t}',
      '',
      '\tchain nat-output {',
      '\t\ttype nat hook output priority -100; policy accept;',
      '\t\tjump services',
      '\t}',
      '}',
      '',
    ].join('\n'));
  });

  test('the real kube-proxy v1.37.2 table, rendered and parsed again, is the table that was parsed', () => {
    const real = parseNftTable(readCapture('vm-kube-proxy-nftables.txt'), 'vm-kube-proxy-nftables.txt');
    expect(parseNftTable(renderNftTable(real), 'rendered')).toEqual(real);
  });
});
