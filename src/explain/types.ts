// An output line annotated like a teacher would: the line itself, its verdict and what it means.
export type LineStatus =
  | 'ok' // observed and expected agree
  | 'mismatch' // observed, expected differently
  | 'unexpected' // observed in a range the layer owns, not expected
  | 'missing' // expected, not observed (shown with the expected text)
  | 'draining' // observed real server with weight 0 that kube-proxy is removing gracefully
  | 'unmanaged' // observed, not owned by the CNI / kube-proxy (default route, host subnet)
  | 'expected' // expected only: nothing was observed to compare with
  | 'info'; // header and other lines that only need explaining

export interface AnnotatedLine {
  text: string;
  status: LineStatus;
  explanation: string;
}
