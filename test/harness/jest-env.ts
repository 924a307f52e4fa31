// Environment variables through which jest's global setup tells the test files about the harness
// (jest starts its workers after global setup, so they inherit them).

/** path of the running control plane's info.json; set it yourself to reuse one from `npm run harness -- up` */
export const HARNESS_INFO_ENV = 'NETLAB_HARNESS_INFO';
/** why the real-component suites skip (binaries or tools missing) */
export const HARNESS_SKIP_ENV = 'NETLAB_HARNESS_SKIP';
/** the startup error, when the binaries exist but the control plane did not start */
export const HARNESS_ERROR_ENV = 'NETLAB_HARNESS_ERROR';
