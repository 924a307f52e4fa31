// Chain names must be kube-proxy's own, or no observed chain would ever match. The expected names are the
// ones kubernetes' own proxier tests use for the same inputs (pkg/proxy/iptables/proxier_test.go,
// pkg/proxy/nftables/proxier_test.go).
import { endpointString, iptablesEndpointChain, iptablesServiceChain, nftEndpointName, nftServiceChain, servicePortName } from '../../../src/model/services/names.ts';

describe('kube-proxy chain names', () => {
  test('iptables: KUBE-SVC/EXT/SEP with 16 base32 characters of sha256', () => {
    expect(iptablesServiceChain('KUBE-SVC-', 'ns1/svc1:p80', 'TCP')).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(iptablesServiceChain('KUBE-EXT-', 'ns1/svc1:p80', 'tcp')).toBe('KUBE-EXT-XPGD46QRK7WJZT7O');
    expect(iptablesEndpointChain('ns1/svc1:p80', 'tcp', '10.180.0.1:80')).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
  });

  test('nftables: an 8-character hash, then the readable name', () => {
    expect(nftServiceChain('service-', 'ns1', 'svc1', 'p80', 'TCP')).toBe('service-ULMVA6XW-ns1/svc1/tcp/p80');
    expect(nftEndpointName('endpoint-', 'ns1', 'svc1', 'p80', 'tcp', '10.180.0.1', 80)).toBe('endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
    // the affinity set shares the endpoint chain's hash; IPv6 colons become dots
    expect(nftEndpointName('affinity-', 'ns1', 'svc1', 'p80', 'tcp', '10.180.0.1', 80)).toBe('affinity-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
    expect(nftEndpointName('endpoint-', 'ns1', 'svc1', 'p80', 'tcp', 'fd00::1', 80)).toMatch(/^endpoint-[A-Z2-7]{8}-ns1\/svc1\/tcp\/p80__fd00\.\.1\/80$/);
  });

  test('port and endpoint strings as kube-proxy writes them', () => {
    expect(servicePortName('ns', 'svc', '')).toBe('ns/svc');
    expect(servicePortName('ns', 'svc', 'http')).toBe('ns/svc:http');
    expect(endpointString('fd00::1', 80)).toBe('[fd00::1]:80');
  });
});
