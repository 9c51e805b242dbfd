import { afterAll, beforeAll, describe, it } from 'vitest';
import { createTestApp, type TestApp } from '../harness.js';
import { expectError } from '../security/helpers.js';
import { expectServedFile, SERVED_FILES } from '../web/served-files.js';

// The page's and the API reference's files on Node: read from dist/public/ when asked for, and
// served through the app with its headers. The Worker serves the same files from Static Assets
// under the same expectations (test/workers/static-assets.spec.ts).

let t: TestApp;
beforeAll(() => {
  t = createTestApp();
});
afterAll(() => t.close());

describe('the files of dist/public on Node', () => {
  it.each(SERVED_FILES.map((served) => [served.file.path, served] as const))('%s: the built bytes, its type, caching, ETag and every security header', async (_path, served) => {
    await expectServedFile((path, headers) => t.request('GET', path, { headers }), served);
  });

  it('a path in dist/public that no manifest names is not served: the folder is never looked up by request path', async () => {
    await expectError(t.request('GET', '/assets/../../package.json'), 404, 'not_found');
    await expectError(t.request('GET', '/docs/redoc.js'), 404, 'not_found');
  });
});
