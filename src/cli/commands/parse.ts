// `netlab parse route|ipvsadm|resolv|nft|iptables-save|ip-addr [FILE|-] --json`: the parsed structure of a tool's output.
import { parseIpAddr } from '../../parse/ip-addr.ts';
import { parseIptablesSave } from '../../parse/iptables-save.ts';
import { parseIpvsadm } from '../../parse/ipvsadm.ts';
import { parseNftTables } from '../../parse/nft.ts';
import { parseResolvConf } from '../../parse/resolvconf.ts';
import { parseRouteN } from '../../parse/route.ts';
import { asFormat, EXIT, jsonText, readInput } from '../io.ts';

export function parseText(format: string, text: string, source: string): unknown {
  switch (asFormat(format)) {
    case 'route':
      return parseRouteN(text, source);
    case 'ipvsadm':
      return parseIpvsadm(text, source);
    case 'resolv':
      return parseResolvConf(text, source);
    case 'nft':
      return { tables: parseNftTables(text, source) };
    case 'iptables-save':
      return parseIptablesSave(text, source);
  }
}

/** `ip -o addr` is parsed (it feeds the model) but not explained or expected line by line. */
export const IP_ADDR_FORMAT = 'ip-addr';

export async function parseCommand(format: string, file: string | undefined, opts: { json?: boolean }): Promise<number> {
  const { text, source } = await readInput(file);
  const parsed = format === IP_ADDR_FORMAT ? parseIpAddr(text, source) : parseText(format, text, source);
  // JSON is the only output format today; --json is accepted so scripts can say what they rely on.
  void opts.json;
  process.stdout.write(jsonText(parsed));
  return EXIT.ok;
}
