// Parser for /etc/resolv.conf, read the way glibc's resolver reads it (resolv/res_init.c), because
// that is what a pod's lookups obey:
// - a keyword counts only at the very start of a line and must be followed by a space or a tab;
// - lines starting with "#" or ";" are comments;
// - `search` and `domain` replace each other: the last one wins (`domain x` means the search list [x]);
//   a `search` or `domain` line with nothing after it changes nothing;
// - `options` lines add up, a later value of the same option wins;
// - every `nameserver` line is kept, in order. glibc uses only the first three (MAXNS): callers that
//   model the resolver must apply that limit themselves.
// Decision: glibc silently ignores lines it does not understand (unknown keywords, bad addresses,
// keywords after leading blanks). netlab reports them as ParseErrors instead, since a line the
// resolver ignores is usually the bug being looked for. `sortlist` is a real keyword and is accepted,
// but not kept: kubelet never writes it and netlab does not model address sorting.
import { isIpv4, isIpv6 } from '../net/ip.ts';
import { LineScanner } from './scan.ts';
import type { ResolvConf } from './types.ts';

const FORMAT = 'resolv.conf';
// Resolver option names are words such as ndots, timeout, rotate, single-request-reopen, trust-ad.
const OPTION_NAME = /^[A-Za-z][A-Za-z0-9-]*$/;

export function parseResolvConf(text: string, source = '<input>'): ResolvConf {
  const scan = new LineScanner(text, FORMAT, source);
  const conf: ResolvConf = { nameservers: [], search: [], options: {} };
  while (scan.nextLine()) {
    if (scan.isBlank() || scan.lineStartsWith('#') || scan.lineStartsWith(';')) continue;
    const first = scan.text.charCodeAt(scan.lineStart);
    if (first === 32 || first === 9) throw scan.error('a keyword after leading blanks (glibc ignores such a line)');
    scan.nextToken();
    const keyword = scan.token();
    switch (keyword) {
      case 'nameserver':
        conf.nameservers.push(readNameserver(scan));
        break;
      case 'search':
      case 'domain': {
        const domains = scan.remainingTokens();
        if (domains.length > 0) conf.search = keyword === 'domain' ? domains.slice(0, 1) : domains;
        break;
      }
      case 'options':
        for (const option of scan.remainingTokens()) {
          const colon = option.indexOf(':');
          const name = colon === -1 ? option : option.slice(0, colon);
          if (!OPTION_NAME.test(name)) throw scan.error(`${JSON.stringify(option)} is not a resolver option (name or name:value)`);
          conf.options[name] = colon === -1 ? null : option.slice(colon + 1);
        }
        break;
      case 'sortlist':
        break;
      default:
        throw scan.error(`unknown keyword ${JSON.stringify(keyword)} (glibc ignores this line)`);
    }
  }
  return conf;
}

/** One IPv4 or IPv6 address; an IPv6 link-local one may carry its zone ("fe80::1%eth0"). */
function readNameserver(scan: LineScanner): string {
  scan.expectToken('nameserver address');
  const address = scan.token();
  const zone = address.indexOf('%');
  if (!isIpv4(address) && !isIpv6(zone === -1 ? address : address.slice(0, zone))) {
    throw scan.error(`nameserver ${JSON.stringify(address)} is not an IP address (glibc ignores this line)`);
  }
  scan.expectLineEnd('the nameserver address');
  return address;
}
