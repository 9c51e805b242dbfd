import { SELF } from 'cloudflare:test';
import { describe, it } from 'vitest';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import {
  batchesSpanningChunksKeepCommitOrder,
  batchWithOneStaleChangeIsRefusedWhole,
  mixedBatchEndsEachItemAsItsChangeSays,
} from '../features/sync-batch-scenarios.js';

// The big-batch scenarios on D1, where a batch is one D1 batch() of multi-row statements that
// must each bind at most 100 parameters.

const viaWorker = (input: string, init: RequestInit) => SELF.fetch(input, { ...init, redirect: 'manual' });

async function loggedIn() {
  const api = createApiClient({ baseUrl: 'http://homing.test', fetch: viaWorker });
  const email = `batch-${toBase64Url(randomBytes(9))}@example.org`;
  await signUp(api, { birthYear: 1990, email, password: 'pw', kdf: { opsLimit: 1, memLimit: 8192 } });
  await logIn(api, { email, password: 'pw' });
  return api;
}

describe('big sync batches on D1', () => {
  it('a mixed batch of 260 changes ends each item exactly as its change says', async () => mixedBatchEndsEachItemAsItsChangeSays(await loggedIn()));
  it('a 100-change batch whose 57th change is stale is refused whole', async () => batchWithOneStaleChangeIsRefusedWhole(await loggedIn()));
  it('a batch spanning several statements takes one sequence number, in commit order', async () => batchesSpanningChunksKeepCommitOrder(await loggedIn()));
});
