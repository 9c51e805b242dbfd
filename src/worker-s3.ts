import { presignIf } from './adapters/blob-store.js';
import { createS3BlobStore } from './adapters/blob-store-s3.js';
import { createWorker } from './worker.js';

// The Worker for BLOB_STORE=s3 (any S3-compatible bucket instead of R2): set main =
// "src/worker-s3.ts" in wrangler.toml. A separate entry because wrangler bundles all an entry
// imports: the AWS SDK it brings is about 95 KiB gzip (minified), which the R2 Worker (src/worker.ts) leaves out.
export default createWorker({ s3BlobStore: (blobs) => presignIf(blobs.presign, createS3BlobStore(blobs, { webStreamBodies: true })) });
