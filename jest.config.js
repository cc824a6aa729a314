// Two projects: unit specs sit beside the code, end-to-end suites live in test/.
const shared = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: __dirname,
  // Node's environment with the main context's typed arrays, which onnxruntime-node needs.
  testEnvironment: '<rootDir>/test/support/shared-typed-arrays-environment.ts',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  moduleNameMapper: { '^src/(.*)$': '<rootDir>/src/$1' },
};

module.exports = {
  // One clear error when the real-world test documents are missing.
  globalSetup: '<rootDir>/test/support/check-corpus.ts',
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};
