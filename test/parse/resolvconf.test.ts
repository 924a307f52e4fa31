import { parseResolvConf } from '../../src/parse/resolvconf.ts';
import { readCapture } from '../fixtures/captures/read.ts';
import { parseErrorOf } from './parse-error.ts';

const parseErrorOfText = (text: string) => parseErrorOf(() => parseResolvConf(text, 'pod/etc/resolv.conf'));

describe('parseResolvConf', () => {
  test("the seed article's pod resolv.conf", () => {
    expect(parseResolvConf(readCapture('seed-resolv.conf'))).toEqual({
      nameservers: ['10.96.0.10'],
      search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: { ndots: '5' },
    });
  });

  test('comments, blank lines, tabs and CRLF', () => {
    const text = '# written by hand\r\n; another comment\r\n\r\nnameserver\t10.96.0.10\r\nsearch\tdefault.svc.cluster.local  cluster.local \r\n';
    expect(parseResolvConf(text)).toEqual({ nameservers: ['10.96.0.10'], search: ['default.svc.cluster.local', 'cluster.local'], options: {} });
  });

  test('the last search or domain line wins, as in glibc; an empty one changes nothing', () => {
    expect(parseResolvConf('search a.example b.example\nsearch c.example\n').search).toEqual(['c.example']);
    expect(parseResolvConf('search a.example b.example\ndomain corp.example other\n').search).toEqual(['corp.example']);
    expect(parseResolvConf('domain corp.example\nsearch a.example\n').search).toEqual(['a.example']);
    expect(parseResolvConf('search a.example\nsearch\n').search).toEqual(['a.example']);
  });

  test('options lines add up; a later value of the same option wins; flags have no value', () => {
    expect(parseResolvConf('options ndots:5 rotate\noptions timeout:2 ndots:2\n').options).toEqual({ ndots: '2', rotate: null, timeout: '2' });
  });

  test('every nameserver is kept in order (glibc uses only the first three)', () => {
    const text = ['10.96.0.10', 'fd00:10:96::a', 'fe80::1%eth0', '8.8.8.8'].map((ns) => `nameserver ${ns}`).join('\n');
    expect(parseResolvConf(text).nameservers).toEqual(['10.96.0.10', 'fd00:10:96::a', 'fe80::1%eth0', '8.8.8.8']);
  });

  test('sortlist is a known keyword and is accepted', () => {
    expect(parseResolvConf('sortlist 130.155.160.0/255.255.240.0\nnameserver 10.0.0.10\n').nameservers).toEqual(['10.0.0.10']);
  });

  test('an empty file is an empty configuration', () => {
    expect(parseResolvConf('')).toEqual({ nameservers: [], search: [], options: {} });
  });
});

describe('parseResolvConf reports the lines glibc would silently ignore', () => {
  test.each([
    ['nameserver 10.96.0.10\nnameservers 10.96.0.11\n', 2, 'unknown keyword "nameservers" (glibc ignores this line)'],
    ['nameserver 10.96.0.10\n  search cluster.local\n', 2, 'a keyword after leading blanks'],
    ['nameserver kube-dns\n', 1, 'nameserver "kube-dns" is not an IP address'],
    ['search a\nnameserver\n', 2, 'missing nameserver address'],
    ['nameserver 10.96.0.10 10.96.0.11\n', 1, 'unexpected "10.96.0.11" after the nameserver address'],
    ['options ndots:5 __proto__\n', 1, '"__proto__" is not a resolver option'],
    ['options :5\n', 1, '":5" is not a resolver option'],
  ])('%j -> line %d: %s', (text, line, reason) => {
    const error = parseErrorOfText(text);
    expect(error.line).toBe(line);
    expect(error.source).toBe('pod/etc/resolv.conf');
    expect(error.message).toContain(reason);
  });
});
