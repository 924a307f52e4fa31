// The nftables and iptables comparisons: the model's own table, rendered and parsed back, has no findings;
// each change behind kube-proxy's back gives exactly one finding keyed like the tool names the thing.
import { compareIptables, compareNftables } from '../../src/compare/rulesets.ts';
import { annotateIptables, annotateNftables } from '../../src/explain/service-rules.ts';
import { expectedIptables } from '../../src/model/services/iptables.ts';
import { expectedNftables } from '../../src/model/services/nftables.ts';
import type { NodeIptables, NodeNftables } from '../../src/model/types.ts';
import { parseIptablesSave } from '../../src/parse/iptables-save.ts';
import { parseNftTable } from '../../src/parse/nft.ts';
import type { IptablesSave, NftTable } from '../../src/parse/types.ts';
import { renderIptablesSave } from '../../src/render/iptables-save.ts';
import { renderNftTable } from '../../src/render/nft.ts';
import { servicesScenario } from '../model/services/scenario.ts';

const withRuleTexts = <C extends { rules: { text: string }[] }>(chains: C[]) => chains.map((c) => ({ ...c, rules: c.rules.map((r) => r.text) }));
const nftText = (model: NodeNftables) => renderNftTable({ ...model, chains: withRuleTexts(model.chains) });
const iptablesText = (model: NodeIptables) => renderIptablesSave({ tables: model.tables.map((t) => ({ name: t.name, chains: withRuleTexts(t.chains) })) });
const keys = (findings: { kind: string; key: string }[]) => findings.map((f) => `${f.kind} ${f.key}`);

describe('compareNftables', () => {
  const model = expectedNftables(servicesScenario(), 'node-1');
  const observed = (): NftTable => parseNftTable(nftText(model));

  test('the expected table itself: no findings, every line explained', () => {
    const cmp = compareNftables(model, observed());
    expect(cmp.findings).toEqual([]);
    const lines = annotateNftables(cmp);
    expect(lines.every((l) => l.status === 'ok' || l.status === 'info')).toBe(true);
    for (const line of lines) expect(line.explanation.length).toBeGreaterThan(10);
  });

  test('a deleted rule is one "missing" finding naming the chain and the rule', () => {
    const table = observed();
    const chain = table.chains.find((c) => c.name.startsWith('endpoint-') && c.name.endsWith('__10.244.0.30/8080'))!;
    chain.rules.splice(1, 1); // the DNAT
    const cmp = compareNftables(model, table);
    expect(keys(cmp.findings)).toEqual([`missing ${chain.name}: meta l4proto tcp dnat to 10.244.0.30:8080`]);
    expect(cmp.findings[0]!.message).toMatch(/rewrites the destination to the endpoint for Service demo\/sticky port "http", endpoint 10\.244\.0\.30:8080 \(pod default\/sticky-1\)/);
    expect(annotateNftables(cmp).find((l) => l.status === 'missing')!.text).toBe('\t\tmeta l4proto tcp dnat to 10.244.0.30:8080');
  });

  test('a deleted map element is one finding; a changed verdict one mismatch; an extra element one unexpected', () => {
    const table = observed();
    const serviceIps = table.sets.find((s) => s.name === 'service-ips')!;
    serviceIps.elements = serviceIps.elements.filter((e) => e.key !== '10.96.0.21 . tcp . 80');
    const noEndpoints = table.sets.find((s) => s.name === 'no-endpoint-nodeports')!;
    noEndpoints.elements.find((e) => e.key === 'tcp . 30081')!.value = 'drop';
    serviceIps.elements.push({ key: '10.96.0.99 . tcp . 80', comment: null, value: 'goto reject-chain' });
    expect(keys(compareNftables(model, table).findings).sort()).toEqual([
      'mismatch map no-endpoint-nodeports element tcp . 30081',
      'missing map service-ips element 10.96.0.21 . tcp . 80',
      'unexpected map service-ips element 10.96.0.99 . tcp . 80',
    ]);
  });

  test('an emptied chain of a removed endpoint is stale, not a finding; a chain with rules is unexpected', () => {
    const table = observed();
    table.chains.push({ name: 'endpoint-ABCDEFGH-demo/web/tcp/http__10.244.9.9/8080', hook: null, comment: null, rules: [] });
    const stale = compareNftables(model, table);
    expect(stale.findings).toEqual([]);
    expect(stale.chains.at(-1)!.status).toBe('stale');
    table.chains.at(-1)!.rules.push('meta l4proto tcp dnat to 10.244.9.9:8080');
    expect(keys(compareNftables(model, table).findings)).toEqual(['unexpected endpoint-ABCDEFGH-demo/web/tcp/http__10.244.9.9/8080']);
  });

  test('affinity sets: their clients are live data, not compared; rules in another order are one mismatch', () => {
    const table = observed();
    table.sets.find((s) => s.name.startsWith('affinity-'))!.elements.push({ key: '10.0.2.2', comment: null, value: null });
    const services = table.chains.find((c) => c.name === 'services')!;
    services.rules.reverse();
    expect(keys(compareNftables(model, table).findings)).toEqual(['mismatch services']);
  });

  test('another table than kube-proxy\'s own, and an empty one, are told apart from a match', () => {
    const empty = compareNftables(model, { family: 'ip', name: 'kube-proxy', comment: null, sets: [], chains: [] });
    expect(empty.findings.length).toBe(model.chains.length + model.sets.length);
  });
});

describe('compareIptables', () => {
  const model = expectedIptables(servicesScenario(), 'node-1');
  const observed = (): IptablesSave => parseIptablesSave(iptablesText(model));

  test('the expected rules themselves: no findings, every line explained', () => {
    const cmp = compareIptables(model, observed());
    expect(cmp.findings).toEqual([]);
    for (const line of annotateIptables(cmp)) expect(line.explanation.length).toBeGreaterThan(10);
  });

  test('a deleted rule is one finding keyed "table -A CHAIN rule"', () => {
    const save = observed();
    const nat = save.tables.find((t) => t.name === 'nat')!;
    const svc = nat.chains.find((c) => c.name.startsWith('KUBE-SVC-') && c.rules.some((r) => r.includes('demo/web:http -> 10.244.1.12')))!;
    const [deleted] = svc.rules.splice(2, 1);
    const cmp = compareIptables(model, save);
    expect(keys(cmp.findings)).toEqual([`missing nat -A ${svc.name} ${deleted}`]);
    expect(cmp.findings[0]!.message).toMatch(/chooses an endpoint for Service demo\/web port "http", endpoint 10\.244\.1\.12:8080/);
  });

  test('rules of different Services in a shared chain come in any order (kube-proxy walks a Go map); within a Service\'s chain the order counts', () => {
    const save = observed();
    const nat = save.tables.find((t) => t.name === 'nat')!;
    const services = nat.chains.find((c) => c.name === 'KUBE-SERVICES')!;
    const last = services.rules.pop()!;
    services.rules.reverse().push(last);
    expect(compareIptables(model, save).findings).toEqual([]);
    const svc = nat.chains.find((c) => c.name.startsWith('KUBE-SVC-') && c.rules.length === 4)!;
    svc.rules.reverse();
    expect(keys(compareIptables(model, save).findings)).toEqual([`mismatch nat ${svc.name}`]);
  });

  test('other programs\' chains and rules in the built-in chains are not kube-proxy\'s: no findings for them', () => {
    const save = observed();
    const filter = save.tables.find((t) => t.name === 'filter')!;
    filter.chains.push({ name: 'DOCKER', policy: '-', rules: ['-j RETURN'] });
    filter.chains.find((c) => c.name === 'INPUT')!.rules.unshift('-i lo -j ACCEPT');
    expect(compareIptables(model, save).findings).toEqual([]);
    const nat = save.tables.find((t) => t.name === 'nat')!;
    nat.chains.push({ name: 'KUBE-SEP-AAAAAAAAAAAAAAAA', policy: '-', rules: ['-j KUBE-MARK-MASQ'] });
    expect(keys(compareIptables(model, save).findings)).toEqual(['unexpected nat KUBE-SEP-AAAAAAAAAAAAAAAA']);
  });
});
