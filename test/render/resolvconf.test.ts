import { parseResolvConf } from '../../src/parse/resolvconf.ts';
import type { ResolvConf } from '../../src/parse/types.ts';
import { renderResolvConf } from '../../src/render/resolvconf.ts';
import { readCapture } from '../fixtures/captures/read.ts';

describe('renderResolvConf writes containerd\'s order: search, nameservers, options', () => {
  test("the seed article's file (written nameserver first) comes out in containerd's order", () => {
    const capture = readCapture('seed-resolv.conf');
    expect(capture.startsWith('nameserver')).toBe(true);
    expect(renderResolvConf(parseResolvConf(capture))).toBe(
      'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
  });

  test('several nameservers, flag options, and a round trip through the parser', () => {
    const conf: ResolvConf = {
      nameservers: ['10.96.0.10', 'fd00:10:96::a'],
      search: ['team-a.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'],
      options: { ndots: '5', rotate: null, timeout: '2' },
    };
    const text = renderResolvConf(conf);
    expect(text).toBe(
      'search team-a.svc.cluster.local svc.cluster.local cluster.local corp.example\n' +
        'nameserver 10.96.0.10\nnameserver fd00:10:96::a\noptions ndots:5 rotate timeout:2\n',
    );
    expect(parseResolvConf(text)).toEqual(conf);
  });

  test('empty parts leave their line out', () => {
    expect(renderResolvConf({ nameservers: ['10.96.0.10'], search: [], options: {} })).toBe('nameserver 10.96.0.10\n');
    expect(renderResolvConf({ nameservers: [], search: [], options: {} })).toBe('');
  });
});
