// Findings: the result of comparing one layer's expected state with what was observed.

export type Layer = 'routes' | 'ipvs' | 'nftables' | 'iptables' | 'dns' | 'resolvconf';
export type FindingKind = 'missing' | 'unexpected' | 'mismatch';

export interface Finding {
  layer: Layer;
  kind: FindingKind;
  /** node the observation came from; null for cluster-wide layers (DNS) */
  node: string | null;
  /** the stable key both sides were matched on, e.g. "TCP 10.96.0.10:53" or "10.244.1.0/24" */
  key: string;
  /** for mismatches: the fields that differ, e.g. ["scheduler"] */
  fields: string[];
  /** the expected line, in the tool's own text format, when there is one */
  expected: string | null;
  /** the observed line, in the tool's own text format, when there is one */
  observed: string | null;
  /** what is wrong, in plain words */
  message: string;
  /** the likely cause */
  cause: string;
  /** what to look at next */
  next: string;
}
