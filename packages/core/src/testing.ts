// Test helpers for llamats packages: `import { startMockHub } from '@llamats/core/testing'`.
export { startMockHub } from './testing/mock-hub.js';
export type { MockHub, MockRepo, MockRequest } from './testing/mock-hub.js';
