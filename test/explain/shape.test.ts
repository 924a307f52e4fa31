// Explanations without a snapshot (`netlab explain FILE` alone), on real captured output: they say what
// the shape of a line tells and nothing they cannot know (issue 10, point 10).
import { explainIpvsByShape, explainResolvConfByShape } from '../../src/explain/shape.ts';
import { parseIpvsadm } from '../../src/parse/ipvsadm.ts';
import { parseResolvConf } from '../../src/parse/resolvconf.ts';
import { readCapture } from '../fixtures/captures/read.ts';

const explanationOf = (lines: { text: string; explanation: string }[], start: string) => lines.find((l) => l.text.startsWith(start))!.explanation;

describe('ipvsadm by shape', () => {
  const lines = explainIpvsByShape(parseIpvsadm(readCapture('vm-ipvsadm-Ln.txt')));

  test('a weight-0 real server is draining: no new connections', () => {
    expect(explanationOf(lines, '  -> 10.244.0.140:8080')).toMatch(/^Real server, draining: weight 0 = no new connections/);
    expect(explanationOf(lines, '  -> 10.244.1.5:8080')).toMatch(/^Real server: connections are forwarded here \(Masq, weight 1\)/);
  });

  test('a virtual server without real servers: connections to it fail', () => {
    expect(explanationOf(lines, 'TCP  10.96.100.20:80')).toContain('no real servers: connections to it fail');
    expect(explanationOf(lines, 'TCP  10.96.0.1:443')).not.toContain('no real servers');
  });

  test.each([
    ['vm-ipvsadm-Ln-stats.txt', 'connections, ', 'counted since'],
    ['vm-ipvsadm-Ln-rate.txt', 'connections per second', 'averaged'],
  ])('%s keeps its numbers on every line and reads them out', (file, unit, period) => {
    const text = readCapture(file);
    const shaped = explainIpvsByShape(parseIpvsadm(text));
    const listed = text.split('\n').filter((l) => /^(TCP|UDP|SCTP|FWM) |^ {2}-> [\d[]/.test(l)).map((l) => l.trimEnd());
    expect(shaped.map((l) => l.text.trimEnd())).toEqual(listed);
    for (const line of shaped) {
      expect(line.explanation).toContain(unit);
      expect(line.explanation).toContain(period);
    }
  });
});

describe('resolv.conf by shape', () => {
  test('the kubelet\'s search list: namespace and cluster domain read from it, the node\'s own domains named', () => {
    const lines = explainResolvConfByShape(parseResolvConf('nameserver 10.96.0.10\nsearch shop.svc.example.org svc.example.org example.org corp.example\noptions ndots:5\n'));
    expect(explanationOf(lines, 'search')).toContain('The kubelet\'s list for a pod in namespace shop of cluster domain example.org');
    expect(explanationOf(lines, 'search')).toContain('The rest (corp.example) the kubelet copies from the node\'s own resolv.conf');
    expect(explanationOf(lines, 'options')).toContain('becomes kubernetes.default.shop.svc.example.org');
  });

  test('another search list is not called the cluster\'s; a missing options line is not invented', () => {
    const lines = explainResolvConfByShape(parseResolvConf('nameserver 192.0.2.53\nsearch corp.example\n'));
    expect(lines.map((l) => l.text)).toEqual(['nameserver 192.0.2.53', 'search corp.example']);
    expect(explanationOf(lines, 'search')).toContain('Not the list the kubelet writes for a pod');
  });

  test('the seed article\'s real pod resolv.conf is recognised', () => {
    const lines = explainResolvConfByShape(parseResolvConf(readCapture('seed-resolv.conf')));
    expect(explanationOf(lines, 'search')).toContain('pod in namespace default of cluster domain cluster.local');
  });
});
