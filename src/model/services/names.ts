// The names kube-proxy gives its per-Service and per-endpoint chains, so netlab's expected chains carry the
// real names. Sources: kubernetes pkg/proxy/iptables/proxier.go (portProtoHash, servicePortEndpointChainName)
// and pkg/proxy/nftables/proxier.go (hashAndTruncate, servicePortChainNameBase, servicePortEndpointChainNameBase).
import { hash } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first `length` characters of the RFC 4648 base32 encoding of SHA-256(text), as Go's base32.StdEncoding prints it. */
function base32Sha256(text: string, length: number): string {
  // the one-shot crypto.hash: no Hash object per name (a node has one name per Service port, 10,000s of them)
  const digest = hash('sha256', text, 'buffer');
  let out = '';
  let bits = 0;
  let buffer = 0;
  for (const byte of digest) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
    if (out.length === length) break;
  }
  return out;
}

/** What kube-proxy calls one port of one Service: "ns/name:port", or "ns/name" when the port has no name. */
export function servicePortName(namespace: string, service: string, portName: string): string {
  return portName ? `${namespace}/${service}:${portName}` : `${namespace}/${service}`;
}

/** "10.244.0.5:8080" or "[fd00::5]:8080": how kube-proxy writes an endpoint (and DNATs to it). */
export function endpointString(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

// iptables mode: a 16-character hash after a fixed prefix keeps names within iptables' 28 characters.
export type IptablesServiceChainPrefix = 'KUBE-SVC-' | 'KUBE-SVL-' | 'KUBE-EXT-' | 'KUBE-FW-';

/** KUBE-SVC-/KUBE-SVL-/KUBE-EXT-/KUBE-FW- + base32(sha256(servicePortName + protocol))[:16]; protocol in lower case. */
export function iptablesServiceChain(prefix: IptablesServiceChainPrefix, portName: string, protocol: string): string {
  return iptablesServiceChains(portName, protocol)(prefix);
}

/** The names of one port's chains for every prefix: one hash (kube-proxy's portProtoHash), worked out once. */
export function iptablesServiceChains(portName: string, protocol: string): (prefix: IptablesServiceChainPrefix) => string {
  const hash = base32Sha256(portName + protocol.toLowerCase(), 16);
  return (prefix) => prefix + hash;
}

/** KUBE-SEP- + base32(sha256(servicePortName + protocol + endpoint))[:16]. */
export function iptablesEndpointChain(portName: string, protocol: string, endpoint: string): string {
  return 'KUBE-SEP-' + base32Sha256(portName + protocol.toLowerCase() + endpoint, 16);
}

// nftables mode: readable names, prefixed with an 8-character hash (knftables allows 256 characters).
const NFT_NAME_BASE_MAX = 256 - 16;

function hashAndTruncate(name: string): string {
  const named = `${base32Sha256(name, 8)}-${name}`;
  return named.length > NFT_NAME_BASE_MAX ? `${named.slice(0, NFT_NAME_BASE_MAX - 3)}...` : named;
}

export type NftServiceChainPrefix = 'service-' | 'local-' | 'external-' | 'firewall-';

/** e.g. "service-ULMVA6XW-ns1/svc1/tcp/p80": prefix + hash + "namespace/name/protocol/portName". */
export function nftServiceChain(prefix: NftServiceChainPrefix, namespace: string, service: string, portName: string, protocol: string): string {
  return nftServiceChains(namespace, service, portName, protocol)(prefix);
}

/** The names of one port's chains for every prefix: they share one hash, worked out once (as kube-proxy does). */
export function nftServiceChains(namespace: string, service: string, portName: string, protocol: string): (prefix: NftServiceChainPrefix) => string {
  const base = hashAndTruncate(`${namespace}/${service}/${protocol.toLowerCase()}/${portName}`);
  return (prefix) => prefix + base;
}

/** e.g. "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80" (or "affinity-…" for its ClientIP set); IPv6 colons become dots. */
export function nftEndpointName(prefix: 'endpoint-' | 'affinity-', namespace: string, service: string, portName: string, protocol: string, address: string, port: number): string {
  const ip = address.replaceAll(':', '.');
  return prefix + hashAndTruncate(`${namespace}/${service}/${protocol.toLowerCase()}/${portName}__${ip}/${port}`);
}
