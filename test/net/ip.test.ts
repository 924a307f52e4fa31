import {
  bigIntToIpv6,
  cidrContains,
  intToIpv4,
  ipFamily,
  ipv4ToInt,
  ipv6ToBigInt,
  isIpv4,
  isIpv6,
  maskToPrefix,
  parseCidr,
  prefixToMask,
} from '../../src/net/ip.ts';

describe('IPv4 numbers', () => {
  test.each([
    ['0.0.0.0', 0],
    ['10.96.0.10', 10 * 2 ** 24 + 96 * 2 ** 16 + 10],
    ['255.255.255.255', 0xffffffff],
    ['192.168.1.1', 0xc0a80101],
  ])('%s <-> %d', (text, value) => {
    expect(ipv4ToInt(text)).toBe(value);
    expect(intToIpv4(value)).toBe(text);
  });

  test.each(['', '10.96.0', '10.96.0.256', '10.96.0.1.2', '10..0.1', '010.1.1.1', ' 10.1.1.1', '10.1.1.1/32', 'fd00::1'])(
    'rejects %j',
    (text) => {
      expect(isIpv4(text)).toBe(false);
      expect(() => ipv4ToInt(text)).toThrow(`not an IPv4 address: ${JSON.stringify(text)}`);
    },
  );

  test('intToIpv4 rejects values outside 32 bits', () => {
    expect(() => intToIpv4(2 ** 32)).toThrow('not a 32-bit unsigned IPv4 value: 4294967296');
    expect(() => intToIpv4(-1)).toThrow('not a 32-bit');
  });
});

describe('IPv6 numbers', () => {
  test.each([
    ['::', 0n],
    ['::1', 1n],
    ['fd00:10:96::a', 0xfd000010009600000000000000000000n | 0xan],
    ['2001:db8::ff00:42:8329', 0x20010db8000000000000ff0000428329n],
    ['::ffff:10.0.0.1', 0xffff0a000001n],
  ])('%s parses', (text, value) => {
    expect(ipv6ToBigInt(text)).toBe(value);
  });

  test('formats in RFC 5952 form: lower case, no leading zeros, longest zero run compressed', () => {
    expect(bigIntToIpv6(ipv6ToBigInt('FD00:0010:0096:0000:0000:0000:0000:000A'))).toBe('fd00:10:96::a');
    expect(bigIntToIpv6(ipv6ToBigInt('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(bigIntToIpv6(ipv6ToBigInt('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(bigIntToIpv6(0n)).toBe('::');
  });

  test.each(['', ':', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'fd00::g', '1.2.3.4::', '1:2:3:4:5:6:7'])('rejects %j', (text) => {
    expect(isIpv6(text)).toBe(false);
    expect(() => ipv6ToBigInt(text)).toThrow('not an IPv6 address');
  });

  test('ipFamily tells the families apart', () => {
    expect(ipFamily('10.0.0.1')).toBe('IPv4');
    expect(ipFamily('fe80::1')).toBe('IPv6');
    expect(ipFamily('kube-dns')).toBeNull();
  });
});

describe('masks and prefixes', () => {
  test.each([
    ['255.255.255.0', 24],
    ['255.255.255.192', 26],
    ['0.0.0.0', 0],
    ['255.255.255.255', 32],
    ['ffff:ffff:ffff:ffff::', 64],
    ['64', 64],
  ])('maskToPrefix(%j) = %d', (mask, prefix) => {
    expect(maskToPrefix(mask)).toBe(prefix);
  });

  test('maskToPrefix rejects non-contiguous and malformed masks', () => {
    expect(() => maskToPrefix('255.0.255.0')).toThrow('not a contiguous netmask: "255.0.255.0"');
    expect(() => maskToPrefix('ffff::ffff')).toThrow('not a contiguous netmask');
    expect(() => maskToPrefix('129')).toThrow('not an IPv6 prefix length: 129');
    expect(() => maskToPrefix('eth0')).toThrow('not a netmask: "eth0"');
  });

  test('prefixToMask is the inverse for both families', () => {
    for (let prefix = 0; prefix <= 32; prefix++) expect(maskToPrefix(prefixToMask(prefix))).toBe(prefix);
    for (let prefix = 0; prefix <= 128; prefix += 7) expect(maskToPrefix(prefixToMask(prefix, 'IPv6'))).toBe(prefix);
    expect(prefixToMask(24)).toBe('255.255.255.0');
    expect(prefixToMask(48, 'IPv6')).toBe('ffff:ffff:ffff::');
    expect(() => prefixToMask(33)).toThrow('not an IPv4 prefix length: 33');
  });
});

describe('CIDRs', () => {
  test('parseCidr keeps the address as written and computes the network', () => {
    expect(parseCidr('10.130.29.80/24')).toEqual({ family: 'IPv4', address: '10.130.29.80', prefix: 24, network: '10.130.29.0' });
    expect(parseCidr('10.244.0.137')).toEqual({ family: 'IPv4', address: '10.244.0.137', prefix: 32, network: '10.244.0.137' });
    expect(parseCidr('FD00:10:244::5/64')).toEqual({ family: 'IPv6', address: 'fd00:10:244::5', prefix: 64, network: 'fd00:10:244::' });
  });

  test.each([
    ['10.0.0.0/33', 'prefix longer than 32'],
    ['10.0.0.0/', 'bad prefix length'],
    ['10.0.0.0/x', 'bad prefix length'],
    ['10.0.0/8', 'bad address'],
    ['fd00::/129', 'prefix longer than 128'],
  ])('parseCidr(%j) fails: %s', (cidr, reason) => {
    expect(() => parseCidr(cidr)).toThrow(`not a CIDR: ${JSON.stringify(cidr)} (${reason})`);
  });

  test('cidrContains', () => {
    expect(cidrContains('10.244.0.0/24', '10.244.0.137')).toBe(true);
    expect(cidrContains('10.244.0.0/24', '10.244.1.0')).toBe(false);
    expect(cidrContains('10.244.3.0/26', '10.244.3.63')).toBe(true);
    expect(cidrContains('10.244.3.0/26', '10.244.3.64')).toBe(false);
    expect(cidrContains('0.0.0.0/0', '192.168.1.1')).toBe(true);
    expect(cidrContains('10.130.29.80/24', '10.130.29.1')).toBe(true); // host bits in the CIDR are ignored
    expect(cidrContains(parseCidr('fd00:10:244::/64'), 'fd00:10:244::5')).toBe(true);
    expect(cidrContains('fd00:10:244::/64', 'fd00:10:245::5')).toBe(false);
    expect(cidrContains('10.0.0.0/8', 'fd00::1')).toBe(false); // other family
    expect(() => cidrContains('10.0.0.0/8', '10.0.0')).toThrow('not an IP address: "10.0.0"');
  });
});
