// The iptables rendering of the shared endpoint choice, in iptables-save's canonical form.
import { expectedIptables, printedProbability } from '../../../src/model/services/iptables.ts';
import { servicesScenario } from './scenario.ts';

const model = expectedIptables(servicesScenario(), 'node-1');
const table = (name: string) => model.tables.find((t) => t.name === name)!;
const rules = (t: string, chain: string) => table(t).chains.find((c) => c.name === chain)?.rules.map((r) => r.text);

describe('expectedIptables', () => {
  test('probabilities as iptables-save prints kube-proxy\'s 1/n: the kernel keeps 31 bits', () => {
    expect([2, 3, 4, 10].map(printedProbability)).toEqual(['0.50000000000', '0.33333333349', '0.25000000000', '0.10000000009']);
  });

  test('three endpoints: statistic rules 1/3 and 1/2, the last one unconditional, with kube-proxy\'s chain names', () => {
    const chainName = table('nat').chains.find((c) => c.why.kind === 'service' && c.why.port?.service === 'web')!.name;
    const web = rules('nat', chainName)!;
    expect(web[0]).toBe(`! -s 10.244.0.0/16 -d 10.96.0.20/32 -p tcp -m comment --comment "demo/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`);
    expect(web.slice(1).map((r) => r.replace(/KUBE-SEP-[A-Z2-7]{16}/, 'SEP'))).toEqual([
      '-m comment --comment "demo/web:http -> 10.244.0.11:8080" -m statistic --mode random --probability 0.33333333349 -j SEP',
      '-m comment --comment "demo/web:http -> 10.244.1.12:8080" -m statistic --mode random --probability 0.50000000000 -j SEP',
      '-m comment --comment "demo/web:http -> 10.244.1.13:8080" -j SEP',
    ]);
    expect(rules('nat', 'KUBE-SERVICES')).toContain(`-d 10.96.0.20/32 -p tcp -m comment --comment "demo/web:http cluster IP" -m tcp --dport 80 -j ${chainName}`);
  });

  test('no endpoints: REJECT in the filter table for the ClusterIP and the NodePort, nothing in nat', () => {
    expect(rules('filter', 'KUBE-SERVICES')).toEqual(['-d 10.96.0.22/32 -p tcp -m comment --comment "demo/empty:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable']);
    expect(rules('filter', 'KUBE-EXTERNAL-SERVICES')).toContain('-p tcp -m comment --comment "demo/empty:http has no endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 30081 -j REJECT --reject-with icmp-port-unreachable');
    expect(table('nat').chains.some((c) => c.rules.some((r) => r.text.includes('demo/empty:')))).toBe(false);
  });

  test('externalTrafficPolicy Local without a local endpoint: DROP for outside traffic to the NodePort, short circuits kept', () => {
    expect(rules('filter', 'KUBE-EXTERNAL-SERVICES')).toContain('-p tcp -m comment --comment "demo/remote:http has no local endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 30083 -j DROP');
    const ext = table('nat').chains.find((c) => c.why.kind === 'external' && c.why.port?.service === 'remote')!;
    expect(ext.rules.map((r) => r.why.kind)).toEqual(['external-pod-short-circuit', 'external-local-masquerade', 'external-local-short-circuit']);
  });

  test('NodePorts: on 127.0.0.1 counted by nfacct (localhostNodePorts), then on every local address; without nfacct only the latter', () => {
    const nodePorts = rules('nat', 'KUBE-NODEPORTS')!.filter((r) => r.includes('demo/nodeport:http'));
    expect(nodePorts.map((r) => r.replace(/KUBE-EXT-[A-Z2-7]{16}/, 'EXT'))).toEqual([
      '-d 127.0.0.0/8 -p tcp -m comment --comment "demo/nodeport:http" -m tcp --dport 30080 -m nfacct --nfacct-name  localhost_nps_accepted_pkts -j EXT',
      '-p tcp -m comment --comment "demo/nodeport:http" -m tcp --dport 30080 -j EXT',
    ]);
    const plain = expectedIptables(servicesScenario(), 'node-1', { nfacct: false });
    expect(plain.tables.flatMap((t) => t.chains.flatMap((c) => c.rules)).some((r) => r.text.includes('nfacct'))).toBe(false);
    expect(rules('nat', 'KUBE-SERVICES')!.at(-1)).toBe('-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  });

  test('ClientIP affinity: recent checks before the split, recent --set before the DNAT', () => {
    const svc = table('nat').chains.find((c) => c.why.kind === 'service' && c.why.port?.service === 'sticky')!;
    expect(svc.rules[1]!.text).toMatch(/^-m comment --comment "demo\/sticky:http -> 10\.244\.0\.30:8080" -m recent --rcheck --seconds 600 --reap --name (KUBE-SEP-[A-Z2-7]{16}) --mask 255\.255\.255\.255 --rsource -j \1$/);
    const sep = table('nat').chains.find((c) => c.why.kind === 'endpoint' && c.why.port?.service === 'sticky')!;
    expect(sep.rules[1]!.text).toBe(`-p tcp -m comment --comment "demo/sticky:http" -m recent --set --name ${sep.name} --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.0.30:8080`);
  });

  test('the jump rules into kube-proxy\'s chains, in the built-in chains, last-added first', () => {
    expect(rules('filter', 'INPUT')).toEqual([
      '-j KUBE-FIREWALL',
      '-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
      '-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    ]);
    expect(rules('nat', 'KUBE-MARK-MASQ')).toEqual(['-j MARK --set-xmark 0x4000/0x4000']);
  });
});
