import type { Config } from '../config.js';
import { type BlobStore, presignIf } from './blob-store.js';
import { createFsBlobStore } from './blob-store-fs.js';
import { createS3BlobStore, ensureBucket } from './blob-store-s3.js';

/** The blob store the configuration names: a local folder by default, or an S3-compatible bucket. */
export async function createNodeBlobStore(config: Config['blobs']): Promise<BlobStore> {
  if (config.store === 'fs') return createFsBlobStore(config.dir);
  const { presign, ...s3 } = config;
  await ensureBucket(s3);
  return presignIf(presign, createS3BlobStore(s3));
}
