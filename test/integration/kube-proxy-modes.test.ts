// The nftables and iptables models against the real kube-proxy v1.37.2: for each mode one VM boots Debian's
// kernel, kube-proxy runs in that mode against the harness apiserver, and the real `nft list table ip
// kube-proxy` / `iptables-save` (read through the VM's exec channel) is compared with expectedNftables() /
// expectedIptables() of a snapshot taken from the same apiserver. kube-proxy syncs on its own schedule (in
// these modes syncPeriod is no periodic resync), so each comparison polls until both sides agree and each
// step also waits for the change it made to be visible. The last agreed output of each mode is written to
// $NETLAB_CACHE_DIR/captures/ (the parser fixtures in test/fixtures/captures were copied from there).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { compareIptables, compareNftables, type RulesetComparison } from '../../src/compare/rulesets.ts';
import type { Finding } from '../../src/compare/types.ts';
import { expectedIptables } from '../../src/model/services/iptables.ts';
import { expectedNftables } from '../../src/model/services/nftables.ts';
import { outputOf } from '../../src/observe/exec.ts';
import { parseIptablesSave } from '../../src/parse/iptables-save.ts';
import { parseNftTable } from '../../src/parse/nft.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';
import { fetchSnapshot } from '../../src/snapshot/from-api.ts';
import { cacheDir } from '../../harness/control-plane/binaries.ts';
import { clientsFor, setPodReady, waitFor } from '../../harness/control-plane/cluster.ts';
import { adminKubeConfig } from '../../harness/control-plane/controlplane.ts';
import { iptablesSave, kubeProxyLog, nftListTable, signalKubeProxy, startKubeProxy } from '../../harness/vm/kube-proxy.ts';
import { describeVmWithKubeProxy } from '../harness/require-vm.ts';
import { createScenario, scenarioServices } from './service-scenario.ts';
import { startNodeVm } from '../../harness/vm/vm.ts';
import type { NodeVm } from '../../harness/vm/vm.ts';

const CONVERGE_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 200_000;

type Mode = 'nftables' | 'iptables';

/** How each mode is read, modelled and compared. */
const MODES: Record<Mode, { read: (vm: NodeVm) => Promise<string>; compare: (snapshot: ClusterSnapshot, node: string, text: string) => RulesetComparison }> = {
  nftables: {
    read: nftListTable,
    compare: (snapshot, node, text) => compareNftables(expectedNftables(snapshot, node), parseNftTable(text, `${node}: nft list table ip kube-proxy`)),
  },
  iptables: {
    read: iptablesSave,
    compare: (snapshot, node, text) => compareIptables(expectedIptables(snapshot, node), parseIptablesSave(text, `${node}: iptables-save`)),
  },
};

function describeFindings(findings: Finding[]): string {
  return findings.map((f) => `  ${f.kind} ${f.key}\n    expected: ${f.expected ?? '-'}\n    observed: ${f.observed ?? '-'}`).join('\n');
}

describe.each(['nftables', 'iptables'] as const)('kube-proxy in %s mode', (mode: Mode) => {
  describeVmWithKubeProxy(`kube-proxy (${mode} mode) on a real kernel and the ${mode} model agree`, (info) => {
    const c = clientsFor(info.kubeconfig);
    const kc = adminKubeConfig(info);
    const NODE = `netlab-${mode}-node`;
    const OTHER_NODE = { name: `netlab-${mode}-node-2`, internalIP: '10.0.2.16', podCIDRs: ['10.244.1.0/24'] };
    const ns = `${mode}-${randomBytes(2).toString('hex')}`;
    let vm: NodeVm;
    let clusterIPs = new Map<string, string>();

    /** The node's output once the model of the current snapshot agrees with it and `settled` holds. */
    async function agreed(what: string, settled: (text: string) => boolean = () => true): Promise<string> {
      let last: Finding[] | null = null;
      try {
        return await waitFor(`${mode} and the model to agree: ${what}`, async () => {
          const snapshot = await fetchSnapshot(kc);
          const text = await MODES[mode].read(vm);
          keep('last', text);
          keep('last-snapshot.json', JSON.stringify(snapshot, null, 1));
          last = MODES[mode].compare(snapshot, NODE, text).findings;
          return last.length === 0 && settled(text) ? text : null;
        }, CONVERGE_TIMEOUT_MS);
      } catch (err) {
        if (last) (err as Error).message += `\nlast findings:\n${describeFindings(last) || '  (none: the step condition did not hold)'}\nkube-proxy log:\n${await kubeProxyLog(vm, 20)}`;
        throw err;
      }
    }

    function keep(name: string, text: string): void {
      const dir = path.join(cacheDir(), 'captures');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `vm-kube-proxy-${mode}-${name}${name.includes('.') ? '' : '.txt'}`), text);
    }

    /**
     * The endpoints ("ip:port") the rules of this suite's Service `service` send to. Only this namespace's:
     * kube-proxy programs every Service of the cluster, and other suites' pods have the same addresses.
     */
    function endpointsOf(text: string, service: string): string[] {
      const found = new Set<string>();
      if (mode === 'nftables') {
        for (const chain of parseNftTable(text).chains.filter((c) => c.name.includes(`-${ns}/${service}/`))) {
          for (const rule of chain.rules) {
            for (const m of rule.matchAll(/(\d+\.\d+\.\d+\.\d+) \. (\d+)/g)) found.add(`${m[1]}:${m[2]}`);
            for (const m of rule.matchAll(/dnat to (\S+)/g)) found.add(m[1]!);
          }
        }
      } else {
        for (const table of parseIptablesSave(text).tables) {
          for (const chain of table.chains) {
            for (const rule of chain.rules.filter((r) => r.includes(`"${ns}/${service}:`))) {
              for (const m of rule.matchAll(/--to-destination (\S+)/g)) found.add(m[1]!);
            }
          }
        }
      }
      return [...found].sort();
    }

    beforeAll(async () => {
      vm = await startNodeVm({ nodeName: NODE, apiserverPort: info.apiserverPort, kubeProxy: true });
      ({ clusterIPs } = await createScenario(c, vm, { namespace: ns, node: NODE, other: OTHER_NODE }, scenarioServices('NodePort')));
      const started = await startKubeProxy(vm, info, { mode, scheduler: '' });
      process.stderr.write(`netlab harness: kube-proxy (${mode}) in VM ${NODE}: first sync ${(started.firstSyncMs / 1000).toFixed(1)} s after start (VM boot ${(vm.bootMs / 1000).toFixed(1)} s)\n`);
    }, 600_000);

    afterAll(async () => {
      await vm?.stop();
    });

    test('ClusterIP, NodePort, ClientIP affinity, headless, endpoint-less and Local-policy services: no findings against the model', async () => {
      const text = await agreed('initial services', (t) => endpointsOf(t, 'web').length === 6 && endpointsOf(t, 'remote-np').length === 1);
      keep('initial', text);
      // the TCP and the UDP port, three pods each
      expect(endpointsOf(text, 'web')).toEqual(['10.244.0.11:5353', '10.244.0.11:8080', '10.244.0.12:5353', '10.244.0.12:8080', '10.244.1.13:5353', '10.244.1.13:8080']);
      expect(text).toContain(clusterIPs.get('web'));
      expect(text).toContain(clusterIPs.get('empty'));
    }, STEP_TIMEOUT_MS);

    test('scaling down (a pod deleted): its endpoint leaves the rules and the model together', async () => {
      await c.core.deleteNamespacedPod({ namespace: ns, name: 'web-3', gracePeriodSeconds: 0 });
      const text = await agreed('web-3 deleted', (t) => !endpointsOf(t, 'web').includes('10.244.1.13:8080'));
      keep('scaled-down', text);
    }, STEP_TIMEOUT_MS);

    test('a pod marked not ready leaves, and comes back when ready again', async () => {
      await setPodReady(c, ns, 'web-2', false);
      await agreed('web-2 not ready', (t) => !endpointsOf(t, 'web').includes('10.244.0.12:8080'));
      await setPodReady(c, ns, 'web-2', true);
      await agreed('web-2 ready again', (t) => endpointsOf(t, 'web').includes('10.244.0.12:8080'));
    }, STEP_TIMEOUT_MS);

    test('a deleted service: its rules and elements leave with it', async () => {
      const gone = clusterIPs.get('empty')!;
      await c.core.deleteNamespacedService({ namespace: ns, name: 'empty' });
      await agreed('service empty deleted', (t) => !t.includes(gone));
    }, STEP_TIMEOUT_MS);

    test('a rule, then a map element (nftables) or a filter rule (iptables), deleted behind kube-proxy\'s back: exactly one finding each', async () => {
      const before = await agreed('before the break');
      keep('final', before);
      // Frozen, kube-proxy cannot repair anything before netlab looks.
      await signalKubeProxy(vm, 'STOP');
      try {
        const findings = async () => MODES[mode].compare(await fetchSnapshot(kc), NODE, await MODES[mode].read(vm)).findings.map((f) => `${f.kind} ${f.key}`);
        if (mode === 'nftables') {
          const table = parseNftTable(before);
          // ClientIP affinity keeps one endpoint chain per endpoint, ending in its DNAT
          const chain = table.chains.find((ch) => ch.name.startsWith('endpoint-') && ch.name.includes(`${ns}/sticky/tcp/http__10.244.0.11/8080`))!;
          const listing = await outputOf(vm, NODE, ['nft', '-a', 'list', 'chain', 'ip', 'kube-proxy', chain.name]);
          const handle = /dnat to 10\.244\.0\.11:8080 # handle (\d+)/.exec(listing)![1]!;
          await outputOf(vm, NODE, ['nft', 'delete', 'rule', 'ip', 'kube-proxy', chain.name, 'handle', handle]);
          expect(await findings()).toEqual([`missing ${chain.name}: meta l4proto tcp dnat to 10.244.0.11:8080`]);
          const web = `${clusterIPs.get('web')} . tcp . 80`;
          await outputOf(vm, NODE, ['nft', 'delete', 'element', 'ip', 'kube-proxy', 'service-ips', `{ ${web} }`]);
          expect((await findings()).sort()).toEqual([`missing ${chain.name}: meta l4proto tcp dnat to 10.244.0.11:8080`, `missing map service-ips element ${web}`].sort());
        } else {
          const nat = parseIptablesSave(before).tables.find((t) => t.name === 'nat')!;
          const sep = nat.chains.find((ch) => ch.name.startsWith('KUBE-SEP-') && ch.rules.some((r) => r.includes(`"${ns}/web:http"`) && r.includes('--to-destination 10.244.0.11:8080')))!;
          const dnat = sep.rules.findIndex((r) => r.includes('--to-destination'));
          await outputOf(vm, NODE, ['iptables', '-t', 'nat', '-D', sep.name, String(dnat + 1)]);
          expect(await findings()).toEqual([`missing nat -A ${sep.name} ${sep.rules[dnat]}`]);
          // the filter table's DROP for outside traffic to the Local NodePort without a local endpoint
          const external = parseIptablesSave(before).tables.find((t) => t.name === 'filter')!.chains.find((ch) => ch.name === 'KUBE-EXTERNAL-SERVICES')!;
          const drop = external.rules.findIndex((r) => r.includes(`${ns}/remote-np:http`));
          await outputOf(vm, NODE, ['iptables', '-t', 'filter', '-D', 'KUBE-EXTERNAL-SERVICES', String(drop + 1)]);
          expect((await findings()).sort()).toEqual([`missing nat -A ${sep.name} ${sep.rules[dnat]}`, `missing filter -A KUBE-EXTERNAL-SERVICES ${external.rules[drop]}`].sort());
        }
      } finally {
        await signalKubeProxy(vm, 'CONT');
      }
    }, STEP_TIMEOUT_MS);
  });
});
