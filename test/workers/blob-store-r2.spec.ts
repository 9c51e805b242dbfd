import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { BlobStoreUnavailableError, blobKey } from '../../src/adapters/blob-store.js';
import { createR2BlobStore } from '../../src/adapters/blob-store-r2.js';
import { describeBlobStoreContract, generated, MiB } from '../adapters/blob-store-contract.js';

describeBlobStoreContract(
  'r2 (workerd)',
  async () => ({ store: createR2BlobStore(env.BLOBS, { listPageSize: 2 }), cleanup: async () => {} }),
  { abortMultipart: true, presign: false, checksSignatures: false },
);

describe('R2 store, when the binding fails', () => {
  /** The real binding, with the named methods (and those of its multipart uploads) failing. */
  const failing = (...methods: string[]) =>
    new Proxy(env.BLOBS, {
      get(target, name: string) {
        if (methods.includes(name)) return async () => {
          throw new Error(`${name}: internal error (10001)`);
        };
        if (name === 'resumeMultipartUpload') {
          return (key: string, uploadId: string) => {
            const upload = target.resumeMultipartUpload(key, uploadId);
            return methods.includes('uploadPart') ? { ...upload, uploadPart: async () => {
                  throw new Error('uploadPart: internal error');
                } } : upload;
          };
        }
        const value = Reflect.get(target, name) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const key = () => blobKey(crypto.randomUUID(), crypto.randomUUID());

  it('answers BlobStoreUnavailableError, and never waits on a body R2 stopped reading', async () => {
    const store = createR2BlobStore(failing('put', 'get', 'head', 'delete', 'list', 'createMultipartUpload', 'uploadPart'));
    await expect(store.put(key(), generated(3 * MiB, 1), 3 * MiB)).rejects.toThrow(BlobStoreUnavailableError);
    await expect(store.get(key())).rejects.toThrow(BlobStoreUnavailableError);
    await expect(store.get(key(), { start: 0, end: 1 })).rejects.toThrow(BlobStoreUnavailableError);
    await expect(store.head(key())).rejects.toThrow(BlobStoreUnavailableError);
    await expect(store.delete([key()])).rejects.toThrow(BlobStoreUnavailableError);
    await expect(store.list('accounts/')).rejects.toThrow(BlobStoreUnavailableError);
    await expect(store.createMultipart(key())).rejects.toThrow(BlobStoreUnavailableError);
    const k = key();
    const { uploadId } = await createR2BlobStore(env.BLOBS).createMultipart(k);
    await expect(store.uploadPart(k, uploadId, 1, generated(6 * MiB, 2), 6 * MiB)).rejects.toThrow(BlobStoreUnavailableError);
  });

  it('lets a body that errors keep its own error, not an R2 one', async () => {
    const store = createR2BlobStore(env.BLOBS);
    const broken = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error('client went away')) });
    await expect(store.put(key(), broken, 10)).rejects.toThrow('client went away');
  });
});
