// The conformance suite (test/conformance): a real kind cluster (Calico) or k3s cluster (Flannel), kube-proxy in
// IPVS mode. Run with `npm run test:conformance` on a machine with Docker and kubectl (and kind for kind);
// `npm test` leaves it out.
import base from './jest.config.js';

const unit = base.projects.find((p) => p.displayName === 'unit');

/** @type {import('jest').Config} */
export default {
  ...unit,
  displayName: 'conformance',
  testMatch: ['<rootDir>/test/conformance/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // creating the cluster and building the images takes minutes; each scenario waits for the operator
  testTimeout: 30 * 60 * 1000,
  maxWorkers: 1,
};
