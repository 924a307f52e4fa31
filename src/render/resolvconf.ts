// Renders a pod's resolv.conf the way containerd writes it from the CRI DNSConfig the kubelet
// sends (parseDNSOptions): the search line, one nameserver line per server, the options line;
// lines that would be empty are left out.
import type { ResolvConf } from '../parse/types.ts';

export function renderResolvConf(conf: ResolvConf): string {
  let out = '';
  if (conf.search.length > 0) out += `search ${conf.search.join(' ')}\n`;
  for (const nameserver of conf.nameservers) out += `nameserver ${nameserver}\n`;
  const options = Object.entries(conf.options).map(([name, value]) => (value === null ? name : `${name}:${value}`));
  if (options.length > 0) out += `options ${options.join(' ')}\n`;
  return out;
}
