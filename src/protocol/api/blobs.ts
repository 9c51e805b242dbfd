import { z } from 'zod';
import { id, timestamp } from './common.js';

export const sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lowercase hex (64 characters)')
  .meta({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });

export const declaredBlob = z
  .strictObject({
    size: z.number().int().min(0).meta({ description: 'Exact size in bytes of the (encrypted) blob' }),
    sha256: sha256Hex,
  })
  .meta({ id: 'DeclaredBlob' });

export const createUploadBody = declaredBlob
  .extend({
    partSize: z
      .number()
      .int()
      .min(5 * 1024 * 1024)
      .max(1024 * 1024 * 1024)
      .optional()
      .meta({ description: 'Bytes per part (every part but the last); at least 5 MiB' }),
  })
  .meta({ id: 'CreateUploadRequest' });

export const blobInfo = z
  .object({ blobId: z.string(), size: z.number().int(), sha256: z.string() })
  .meta({ id: 'Blob' });

export const upload = z
  .object({
    uploadId: z.string(),
    blobId: z.string(),
    partSize: z.number().int(),
    partCount: z.number().int(),
    expiresAt: timestamp('Unfinished uploads are discarded after this'),
  })
  .meta({ id: 'Upload' });

export const uploadedPart = z
  .object({
    partNumber: z.number().int(),
    size: z.number().int().meta({ description: 'Bytes the server stored for this part' }),
  })
  .meta({ id: 'UploadedPart' });

export const uploadStatus = upload
  .extend({
    size: z.number().int(),
    sha256: z.string(),
    state: z.enum(['open', 'completed']).meta({
      description: 'open: parts may still be sent; completed: the blob is committed, and complete answers it again',
    }),
    parts: z
      .array(
        uploadedPart.extend({
          etag: z.string().meta({ description: "The store's tag for the part's bytes (an MD5 in hex on the fs store)" }),
        }),
      )
      .meta({ description: 'The parts stored so far, by part number; empty once completed' }),
  })
  .meta({ id: 'UploadStatus' });

export const presignedRequest = z
  .object({
    url: z.string(),
    method: z.enum(['PUT', 'GET']),
    headers: z.record(z.string(), z.string()),
    expiresAt: timestamp('The URL stops working'),
  })
  .meta({ id: 'PresignedRequest' });

export const binaryBody = (description: string) => ({
  required: true as const,
  description,
  content: { 'application/octet-stream': { schema: z.string().meta({ type: 'string', format: 'binary' }) } },
});

export const blobHeaders = z.object({
  'content-length': z.string().optional().meta({ description: 'Required: the exact size in bytes' }),
  'x-homing-sha256': sha256Hex.meta({ description: 'SHA-256 of the body, lowercase hex' }),
});

export const blobIdParam = z.object({ blobId: id('Blob id') });
export const uploadIdParam = z.object({ uploadId: id('Upload id') });
export const partParams = uploadIdParam.extend({
  partNumber: z.coerce.number().int().min(1).max(10_000).meta({ param: { name: 'partNumber', in: 'path' }, example: 1 }),
});
