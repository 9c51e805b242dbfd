// The ceiling of section 10: the S3 store itself, reached straight from this process with the AWS
// SDK, as fast as the store and the loopback allow. Swift's S3 API when S3_TEST_* is set (as
// .ci/run and the shared tools set it), else s3rver started here, named as such in the report.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createS3BlobStore, ensureBucket, type S3BlobStoreConfig } from '../../src/adapters/blob-store-s3.js';
import { emptyAndDeleteBucket, s3rverConfig, startS3rver } from '../adapters/s3-servers.js';
import { digestNode } from './node-transfer.js';

export interface S3Target {
  /** What the store is, for the report: "OpenStack Swift (S3 API)" or "s3rver". */
  label: string;
  config: S3BlobStoreConfig;
  /** Settings that point the server at the same bucket. */
  serverEnv: Record<string, string>;
  upload(key: string, body: Readable, size: number): Promise<void>;
  /** Downloads the object, hashing it as it arrives. */
  download(key: string): Promise<{ bytes: number; sha256: string }>;
  remove(key: string): Promise<void>;
  /** Empties and deletes the bucket, and stops s3rver if it was started here. */
  close(): Promise<void>;
}

export async function openS3Target(): Promise<S3Target> {
  let stopServer = async () => {};
  let label = 'OpenStack Swift (S3 API)';
  let config: S3BlobStoreConfig;
  if (process.env.S3_TEST_ENDPOINT) {
    config = {
      endpoint: process.env.S3_TEST_ENDPOINT,
      region: process.env.S3_TEST_REGION ?? 'us-east-1',
      bucket: `homing-bench-${randomUUID()}`,
      accessKeyId: process.env.S3_TEST_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.S3_TEST_SECRET_ACCESS_KEY ?? '',
      forcePathStyle: true,
    };
  } else {
    const s3rver = await startS3rver();
    stopServer = () => s3rver.stop();
    label = 's3rver (S3_TEST_ENDPOINT unset, so no Swift)';
    config = { ...s3rverConfig(s3rver.port), bucket: `homing-bench-${randomUUID().slice(0, 8)}` };
  }
  await ensureBucket(config);
  // The same client settings as the server's store (blob-store-s3.ts makeClient).
  const client = new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: true,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = config.bucket;
  return {
    label,
    config,
    serverEnv: {
      BLOB_STORE: 's3',
      S3_ENDPOINT: config.endpoint!,
      S3_REGION: config.region,
      S3_BUCKET: Bucket,
      S3_ACCESS_KEY_ID: config.accessKeyId,
      S3_SECRET_ACCESS_KEY: config.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    },
    async upload(Key, Body, size) {
      await client.send(new PutObjectCommand({ Bucket, Key, Body, ContentLength: size }));
    },
    async download(Key) {
      const out = await client.send(new GetObjectCommand({ Bucket, Key }));
      return digestNode(out.Body as Readable);
    },
    async remove(Key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key }));
    },
    async close() {
      try {
        await emptyAndDeleteBucket(createS3BlobStore(config), config);
      } finally {
        client.destroy();
        await stopServer();
      }
    },
  };
}
