import { parseIpAddr } from '../../src/parse/ip-addr.ts';
import { readCapture } from '../fixtures/captures/read.ts';
import { parseErrorOf } from './parse-error.ts';

const parseErrorOfText = (text: string) => parseErrorOf(() => parseIpAddr(text, 'node-1/ip-addr.txt'));

describe('parseIpAddr on captures', () => {
  test('vm-ip-o-addr.txt: every address with its interface, labels only on IPv4', () => {
    const { addresses } = parseIpAddr(readCapture('vm-ip-o-addr.txt'));
    expect(addresses.map((a) => `${a.iface} ${a.address}/${a.prefixLength}`)).toEqual([
      'lo 127.0.0.1/8', 'lo ::1/128',
      'eth0 10.0.2.15/24', 'eth0 192.168.7.7/24', 'eth0 10.0.2.30/24',
      'eth0 fd00:2::15/64', 'eth0 fec0::5054:ff:fe12:3456/64', 'eth0 fe80::5054:ff:fe12:3456/64',
      'tunl0 10.244.25.1/32',
      'kube-ipvs0 10.96.0.1/32', 'kube-ipvs0 10.96.0.10/32',
      'docker0 172.17.0.1/16', 'docker0 fe80::38fe:54ff:fea9:9cb8/64',
      'vxlan.calico 10.244.26.0/32', 'vxlan.calico fe80::ac8a:f2ff:fec6:9b30/64',
    ]);
    expect(addresses.find((a) => a.address === '192.168.7.7')).toMatchObject({ index: 2, label: 'eth0:ext', flags: [] });
    expect(addresses.find((a) => a.address === '10.0.2.30')).toMatchObject({ label: 'eth0', flags: ['secondary'] });
    expect(addresses.find((a) => a.address === 'fec0::5054:ff:fe12:3456')).toMatchObject({ scope: 'site', flags: ['dynamic', 'mngtmpaddr'], label: null });
    expect(addresses.find((a) => a.address === '172.17.0.1')).toEqual({
      index: 5, iface: 'docker0', family: 'IPv4', address: '172.17.0.1', prefixLength: 16, peer: null,
      broadcast: '172.17.255.255', scope: 'global', flags: [], metric: null, label: 'docker0',
    });
  });

  test('netns-ip-o-addr.txt: peer, metric, tentative, finite lifetimes, several flags', () => {
    const { addresses } = parseIpAddr(readCapture('netns-ip-o-addr.txt'));
    expect(addresses).toHaveLength(21);
    expect(addresses.find((a) => a.address === '10.0.0.1')).toMatchObject({ iface: 'ens5-peer', peer: '10.0.0.2', prefixLength: 32 });
    expect(addresses.find((a) => a.address === '10.5.5.5')).toMatchObject({ metric: 300, scope: 'global', label: 'docker0' });
    expect(addresses.find((a) => a.address === 'fd00:5::5')).toMatchObject({ metric: 300, label: null });
    expect(addresses.find((a) => a.address === 'fd00:6::6')!.flags).toEqual(['tentative']);
    expect(addresses.find((a) => a.address === '10.96.0.10')).toMatchObject({ iface: 'docker0', flags: ['dynamic'] });
    expect(addresses.find((a) => a.address === '2001:db8::5')!.flags).toEqual(['nodad', 'noprefixroute']);
    expect(addresses.find((a) => a.address === '169.254.3.3')).toMatchObject({ scope: 'link', label: 'ens5-peer' });
  });
});

describe('parseIpAddr errors name the file, the line and the text', () => {
  test('`ip addr` without -o', () => {
    const error = parseErrorOfText('1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n');
    expect(error.message).toContain('node-1/ip-addr.txt:1:');
    expect(error.message).toContain('run `ip -o addr`');
    expect(parseErrorOfText('    inet 127.0.0.1/8 scope host lo\n').message).toContain('without -o');
  });

  test('a bad address, with its line number', () => {
    const first = readCapture('vm-ip-o-addr.txt').split('\n')[0]!;
    const error = parseErrorOfText(`${first}\n2: eth0    inet 10.0.2.300/24 scope global eth0\\       valid_lft forever preferred_lft forever\n`);
    expect(error.line).toBe(2);
    expect(error.message).toContain('"10.0.2.300" is not an IPv4 address');
    expect(error.text).toContain('10.0.2.300/24');
  });

  test('an IPv6 address on an inet line, a missing prefix, a missing scope, a bad prefix length', () => {
    expect(parseErrorOfText('2: eth0    inet fd00::1/64 scope global eth0').message).toContain('not an IPv4 address');
    expect(parseErrorOfText('2: eth0    inet 10.0.2.15 scope global eth0').message).toContain('no prefix length');
    expect(parseErrorOfText('2: eth0    inet 10.0.2.15/24').message).toContain('missing "scope"');
    expect(parseErrorOfText('2: eth0    inet 10.0.2.15/33 scope global eth0').message).toContain('prefix length');
  });

  test('other listings: ip -br addr, ip -o link, garbage after the lifetimes, empty output', () => {
    expect(parseErrorOfText('lo               UNKNOWN        127.0.0.1/8 ::1/128').message).toContain('not an interface index');
    expect(parseErrorOfText('1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00').message).toContain('run `ip -o addr`');
    expect(parseErrorOfText('2: eth0    inet 10.0.2.15/24 scope global eth0\\  valid_lft forever junk').message).toContain('after "\\"');
    expect(parseErrorOfText('2: eth0    link 10.0.2.15/24').message).toContain('expected inet or inet6');
    expect(parseErrorOfText('\n\n').message).toContain('no address lines');
  });
});
