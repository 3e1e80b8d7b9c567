import { initBackend } from './init-backend.js';
import type { BackendName } from './types.js';

/** The backends every model test runs on: `describe.each(TEST_BACKENDS)('%s', (backend) => { beforeAll(() => useBackend(backend)); ... })`. */
export const TEST_BACKENDS = ['cpu', 'wasm'] as const satisfies readonly BackendName[];

/** Starts one named backend for a test suite (throws BackendUnavailableError if it cannot run). */
export async function useBackend(backend: BackendName): Promise<void> {
  await initBackend({ backend });
}
