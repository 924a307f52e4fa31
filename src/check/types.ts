// The whole check as one pure step: snapshot + observation -> report.
// The CLI (`netlab check`, `netlab demo`) and the operator both call checkLab() in src/check/check.ts.
import type { Finding, Layer } from '../compare/types.ts';
import type { AnnotatedLine } from '../explain/types.ts';
import type { CniDetection } from '../model/routes/detect.ts';
import type { DnsType } from '../model/types.ts';

export interface UserDnsQuery {
  name: string;
  type: DnsType | 'PTR';
  /** expected answer data; when absent the model's answer is used */
  expect?: string[];
}

/** A layer, or "services": the Service layer of the mode kube-proxy runs in (ipvs, nftables or iptables). */
export type CheckName = Layer | 'services';

export interface CheckOptions {
  layers: readonly CheckName[];
  /** node names to check; default every node in the snapshot */
  nodes?: string[];
  /** namespaces whose Services the DNS layer checks; default every namespace */
  namespaces?: string[];
  dnsQueries?: UserDnsQuery[];
}

export type LayerStatus = 'pass' | 'fail' | 'unknown' | 'skipped';

export interface LayerCounts {
  expected: number;
  observed: number;
  missing: number;
  unexpected: number;
  mismatched: number;
}

export interface LayerResult {
  layer: Layer;
  status: LayerStatus;
  counts: LayerCounts;
  findings: Finding[];
  /** what was not checked and why: one line per node or probe, naming it */
  unknown: string[];
  /** some of that input was there but could not be read or parsed (a probe failed, a file did not parse), rather than absent */
  unreadable: boolean;
  /** facts the reader should know (fallbacks used, nodes without observation) */
  notes: string[];
}

/** One annotated table of the report: a node's routes or IPVS table, the DNS answers, the resolv.conf. */
export interface ReportSection {
  layer: Layer;
  node: string | null;
  /** false when nothing was observed and the lines are the model's expectation only */
  observed: boolean;
  lines: AnnotatedLine[];
}

export interface CheckReport {
  layers: Record<Layer, LayerResult>;
  sections: ReportSection[];
  /** the CNI whose routes the routes layer modelled, and the evidence; null when routes were not checked */
  cni: CniDetection | null;
}
