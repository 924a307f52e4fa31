// jest 30 runs the TypeScript sources as ES modules through @swc/jest (type stripping only;
// `tsc --noEmit` in `npm test` does the type checking).
const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' } }],
  },
};

// Two projects so that the real control plane (test/harness) starts only when an integration
// test is selected: jest runs a project's globalSetup only if that project has tests to run.
/** @type {import('jest').Config} */
export default {
  testTimeout: 30000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // test/conformance needs a container engine and runs apart: npm run test:conformance (jest.conformance.config.js)
      testPathIgnorePatterns: ['<rootDir>/test/integration/', '<rootDir>/test/conformance/'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/harness/jest-global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/jest-global-teardown.ts',
    },
  ],
};
