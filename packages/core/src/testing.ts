// Test helpers for llamats packages: `import { startMockHub, TEST_BACKENDS } from '@llamats/core/testing'`.
export { startMockHub } from "./testing/mock-hub.js";
export type { MockAccount, MockHub, MockHubOptions, MockRepo, MockRequest } from "./testing/mock-hub.js";
export { TEST_BACKENDS, testBackends, useBackend, isCi } from "./backend/test-backends.js";
export type { TestBackend, TestBackendsOptions } from "./backend/test-backends.js";
export { readScalar } from "./testing/read-scalar.js";
