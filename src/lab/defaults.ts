// The lab's defaults, shared by the command line (its option defaults) and the orchestration (its retry hints).
export const DEFAULT_WAIT_SECONDS = 600;
export const DEFAULT_CLUSTER = 'netlab';
/** kube-proxy's modes, as kind's `networking.kubeProxyMode` names them. */
export const PROXY_MODES = ['ipvs', 'nftables', 'iptables'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];
/** IPVS, the mode of netlab's source article: kind-config.yaml as it is. */
export const DEFAULT_PROXY_MODE: ProxyMode = 'ipvs';
