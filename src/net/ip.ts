// IPv4/IPv6 address arithmetic shared by the parsers, the model and the comparisons.
// IPv4 values are unsigned 32-bit numbers; IPv6 values are BigInts (128 bits do not fit a number).
// Every function throws a plain Error naming the bad value: callers pass addresses they already
// parsed, so a bad one here is a bug or bad input that must not be skipped silently.

export type IpFamily = 'IPv4' | 'IPv6';

export interface Cidr {
  family: IpFamily;
  /** the address as written, in canonical form (may have host bits set, as in "10.130.29.80/24") */
  address: string;
  prefix: number;
  /** the network address: `address` with the host bits cleared */
  network: string;
}

const IPV6_BITS = 128n;
const IPV6_ALL_ONES = (1n << IPV6_BITS) - 1n;

/** The IPv4 value of a dotted quad, or -1 when the text is not one (no leading zeros, each part 0..255). */
function ipv4Value(text: string): number {
  return ipv4ValueAt(text, 0, text.length);
}

/** ipv4Value of text[start, end), so parsers can check an address inside a line without slicing it first. */
export function ipv4ValueAt(text: string, start: number, end: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // leading zero, e.g. "010"
      part = part * 10 + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + part;
}

export function isIpv4(text: string): boolean {
  return ipv4Value(text) >= 0;
}

/** "10.96.0.10" -> 174063626 (unsigned). */
export function ipv4ToInt(ip: string): number {
  const value = ipv4Value(ip);
  if (value < 0) throw new Error(`not an IPv4 address: ${JSON.stringify(ip)}`);
  return value;
}

export function intToIpv4(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Error(`not a 32-bit unsigned IPv4 value: ${value}`);
  }
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** The 128-bit value of an IPv6 address, or null when the text is not one. Accepts "::" and a trailing dotted quad. */
function ipv6Value(text: string): bigint | null {
  if (text.length < 2 || text.length > 45) return null;
  const doubleColon = text.indexOf('::');
  if (doubleColon !== -1 && text.indexOf('::', doubleColon + 1) !== -1) return null;
  const head = doubleColon === -1 ? text : text.slice(0, doubleColon);
  const tail = doubleColon === -1 ? '' : text.slice(doubleColon + 2);
  const headGroups = ipv6Groups(head, doubleColon === -1);
  const tailGroups = ipv6Groups(tail, true);
  if (!headGroups || !tailGroups) return null;
  const missing = 8 - headGroups.length - tailGroups.length;
  if (doubleColon === -1 ? missing !== 0 : missing < 1) return null;
  let value = 0n;
  for (const group of headGroups) value = (value << 16n) | BigInt(group);
  value <<= BigInt(16 * missing);
  for (const group of tailGroups) value = (value << 16n) | BigInt(group);
  return value;
}

/** The 16-bit groups of one side of "::"; a dotted quad is allowed as the last two groups when `mayEndWithIpv4`. */
function ipv6Groups(text: string, mayEndWithIpv4: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && mayEndWithIpv4 && part.includes('.')) {
      const v4 = ipv4Value(part);
      if (v4 < 0) return null;
      groups.push(v4 >>> 16, v4 & 0xffff);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

export function isIpv6(text: string): boolean {
  return ipv6Value(text) !== null;
}

export function ipv6ToBigInt(ip: string): bigint {
  const value = ipv6Value(ip);
  if (value === null) throw new Error(`not an IPv6 address: ${JSON.stringify(ip)}`);
  return value;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (2+ groups) of zero groups as "::". */
export function bigIntToIpv6(value: bigint): string {
  if (value < 0n || value > IPV6_ALL_ONES) throw new Error(`not a 128-bit IPv6 value: ${value}`);
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

export function ipFamily(ip: string): IpFamily | null {
  if (isIpv4(ip)) return 'IPv4';
  if (isIpv6(ip)) return 'IPv6';
  return null;
}

function familyBits(family: IpFamily): number {
  return family === 'IPv4' ? 32 : 128;
}

function checkPrefix(prefix: number, family: IpFamily): void {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > familyBits(family)) {
    throw new Error(`not an ${family} prefix length: ${prefix}`);
  }
}

function ipv4PrefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function ipv6PrefixMask(prefix: number): bigint {
  return (IPV6_ALL_ONES << BigInt(128 - prefix)) & IPV6_ALL_ONES;
}

/** 24 -> "255.255.255.0"; for IPv6, 64 -> "ffff:ffff:ffff:ffff::". */
export function prefixToMask(prefix: number, family: IpFamily = 'IPv4'): string {
  checkPrefix(prefix, family);
  return family === 'IPv4' ? intToIpv4(ipv4PrefixMask(prefix)) : bigIntToIpv6(ipv6PrefixMask(prefix));
}

/**
 * "255.255.255.0" -> 24. Also accepts an IPv6 mask address ("ffff:ffff::" -> 32) and a bare prefix
 * length ("64"), which is how ipvsadm prints IPv6 masks and how `route -n -A inet6` rows carry theirs.
 * Throws on a non-contiguous mask.
 */
export function maskToPrefix(mask: string): number {
  if (/^\d{1,3}$/.test(mask)) {
    const prefix = Number(mask);
    checkPrefix(prefix, 'IPv6');
    return prefix;
  }
  const v4 = ipv4Value(mask);
  if (v4 >= 0) {
    const inverted = ~v4 >>> 0;
    if ((inverted & (inverted + 1)) !== 0) throw new Error(`not a contiguous netmask: ${JSON.stringify(mask)}`);
    return 32 - Math.log2(inverted + 1);
  }
  const v6 = ipv6Value(mask);
  if (v6 === null) throw new Error(`not a netmask: ${JSON.stringify(mask)}`);
  const inverted = ~v6 & IPV6_ALL_ONES;
  if ((inverted & (inverted + 1n)) !== 0n) throw new Error(`not a contiguous netmask: ${JSON.stringify(mask)}`);
  return 128 - (inverted + 1n).toString(2).length + 1;
}

/** "10.244.1.0/24" -> { family, address, prefix, network }. A bare address is a host route (/32 or /128). */
export function parseCidr(cidr: string): Cidr {
  const slash = cidr.indexOf('/');
  const addressText = slash === -1 ? cidr : cidr.slice(0, slash);
  const prefixText = slash === -1 ? null : cidr.slice(slash + 1);
  const family = ipFamily(addressText);
  if (!family) throw new Error(`not a CIDR: ${JSON.stringify(cidr)} (bad address)`);
  if (prefixText !== null && !/^\d{1,3}$/.test(prefixText)) {
    throw new Error(`not a CIDR: ${JSON.stringify(cidr)} (bad prefix length)`);
  }
  const prefix = prefixText === null ? familyBits(family) : Number(prefixText);
  if (prefix > familyBits(family)) throw new Error(`not a CIDR: ${JSON.stringify(cidr)} (prefix longer than ${familyBits(family)})`);
  if (family === 'IPv4') {
    const value = ipv4ToInt(addressText);
    return { family, address: addressText, prefix, network: intToIpv4((value & ipv4PrefixMask(prefix)) >>> 0) };
  }
  const value = ipv6ToBigInt(addressText);
  return { family, address: bigIntToIpv6(value), prefix, network: bigIntToIpv6(value & ipv6PrefixMask(prefix)) };
}

/** Whether `ip` lies inside `cidr`. An address of the other family is never inside. */
export function cidrContains(cidr: string | Cidr, ip: string): boolean {
  const range = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  // The IPv4 value doubles as the family test: the models call this once per pod of a cluster.
  const v4 = ipv4Value(ip);
  if (v4 >= 0) return range.family === 'IPv4' && ((v4 & ipv4PrefixMask(range.prefix)) >>> 0) === ipv4ToInt(range.network);
  const v6 = ipv6Value(ip);
  if (v6 === null) throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
  return range.family === 'IPv6' && (v6 & ipv6PrefixMask(range.prefix)) === ipv6ToBigInt(range.network);
}
