import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from '../../src/adapters/blob-store.js';
import type { S3BlobStoreConfig } from '../../src/adapters/blob-store-s3.js';

// The real S3 servers tests run against: s3rver, started here in a child process, and OpenStack
// Swift's S3 API, which .ci/run starts and announces through S3_TEST_ENDPOINT.

export const tempDir = () => mkdtemp(join(tmpdir(), 'homing-blobs-'));

/** Swift's settings (from S3_TEST_*) with a fresh bucket name. */
export function swiftConfig(): S3BlobStoreConfig {
  return {
    endpoint: process.env.S3_TEST_ENDPOINT!,
    region: process.env.S3_TEST_REGION ?? 'us-east-1',
    bucket: `homing-test-${randomUUID()}`,
    accessKeyId: process.env.S3_TEST_ACCESS_KEY_ID ?? '',
    secretAccessKey: process.env.S3_TEST_SECRET_ACCESS_KEY ?? '',
    forcePathStyle: true,
  };
}

export function s3rverConfig(port: number): S3BlobStoreConfig {
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    bucket: 'homing-test',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
  };
}

const S3RVER_SCRIPT = fileURLToPath(new URL('./run-s3rver.mjs', import.meta.url));

/**
 * s3rver in a child process: it needs --openssl-legacy-provider to list objects, and the
 * mid-upload test must be able to kill it. It picks its own free port and prints it. A test that
 * restarts a killed one passes its port and folder (`restart`), and then removes the folder itself.
 */
export async function startS3rver(
  restart?: { port: number; directory: string },
): Promise<{ port: number; directory: string; child: ChildProcess; stop(): Promise<void> }> {
  const directory = restart?.directory ?? (await tempDir());
  const args = [S3RVER_SCRIPT, directory, ...(restart ? [String(restart.port)] : [])];
  const child = spawn(process.execPath, ['--openssl-legacy-provider', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start:\n${output}`)), 15_000);
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const line = /^\{.*\}$/m.exec(output)?.[0];
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with ${code}:\n${output}`));
    });
  });
  return {
    port,
    directory,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end();
        child.kill('SIGTERM');
        await exited;
      }
      if (!restart) await rm(directory, { recursive: true, force: true });
    },
  };
}

export async function emptyAndDeleteBucket(store: BlobStore, config: S3BlobStoreConfig) {
  let cursor: string | undefined;
  do {
    const page = await store.list('', cursor);
    await store.delete(page.keys.map((k) => k.key));
    cursor = page.cursor;
  } while (cursor);
  const client = new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: true,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
  });
  await client.send(new DeleteBucketCommand({ Bucket: config.bucket })).finally(() => client.destroy());
}
