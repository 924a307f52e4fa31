// The lab's defaults, shared by the command line (its option defaults) and the orchestration (its retry hints).
export const DEFAULT_WAIT_SECONDS = 600;
export const DEFAULT_CLUSTER = 'netlab';
