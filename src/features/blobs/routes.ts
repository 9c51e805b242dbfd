import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import type { AppEnv } from '../../http/env.js';
import { createRouter, SESSION_SECURITY } from '../../http/router.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import {
  binaryBody,
  blobHeaders,
  blobIdParam,
  blobInfo,
  createUploadBody,
  declaredBlob,
  partParams,
  presignedRequest,
  upload,
  uploadedPart,
  uploadIdParam,
  uploadStatus,
} from '../../protocol/api/blobs.js';
import { commitPresigned, downloadBlob, presignDownload, presignUpload, uploadBlob } from './service.js';
import { abortUpload, completeUpload, createUpload, uploadPart, uploadStatus as readUploadStatus } from './uploads.js';

/** The exact body size, which streaming uploads must declare up front. */
function contentLength(c: Context<AppEnv>) {
  const header = c.req.header('Content-Length');
  if (header === undefined || !/^\d{1,16}$/.test(header)) {
    throw new AppError('length_required', 'send the exact body size in Content-Length');
  }
  return Number(header);
}

const bodyOf = (c: Context<AppEnv>) => c.req.raw.body ?? new ReadableStream<Uint8Array>({ start: (ctl) => ctl.close() });

export function blobRoutes(deps: Deps) {
  const router = createRouter();
  const tags = ['Blobs'];
  const security = SESSION_SECURITY;

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/blobs',
      tags,
      security,
      summary: 'Upload a blob (streamed)',
      description:
        'The body is the encrypted blob. The server streams it to storage while counting and hashing it; if the size or SHA-256 differs from what was declared, nothing is stored. The returned blobId can then be attached to an item.',
      request: { headers: blobHeaders, body: binaryBody('The encrypted blob') },
      responses: {
        201: jsonResponse(blobInfo, 'Stored whole and verified'),
        ...errorResponses(411, 413, 422, 507),
      },
    }),
    async (c) => {
      const declared = { size: contentLength(c), sha256: c.req.valid('header')['x-homing-sha256'] };
      return c.json(await uploadBlob(deps, c.get('session').accountId, declared, bodyOf(c)), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/blobs/{blobId}',
      tags,
      security,
      summary: 'Download a blob (streamed; Range supported)',
      request: { params: blobIdParam },
      responses: {
        200: { description: 'The whole blob', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
        206: { description: 'The requested range', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
        ...errorResponses(404, 416),
      },
    }),
    async (c) => {
      const { blobId } = c.req.valid('param');
      const { blob, stored, range: served } = await downloadBlob(deps, c.get('session').accountId, blobId, c.req.header('Range'));
      const headers: Record<string, string> = {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(stored.size),
        'Accept-Ranges': 'bytes',
        ETag: `"${blob.sha256}"`,
        'Cache-Control': 'private, no-store',
      };
      if (served) headers['Content-Range'] = `bytes ${served.start}-${served.end}/${blob.size}`;
      return c.body(stored.body, served ? 206 : 200, headers) as never;
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/uploads',
      tags,
      security,
      summary: 'Start a resumable upload',
      description:
        'For large blobs: upload parts in any order with PUT /v1/uploads/{uploadId}/parts/{n}, then complete. Unfinished uploads expire and are discarded.',
      request: { body: jsonBody(createUploadBody) },
      responses: { 201: jsonResponse(upload, 'Started'), ...errorResponses(507) },
    }),
    async (c) => c.json(await createUpload(deps, c.get('session').accountId, c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/v1/uploads/{uploadId}/parts/{partNumber}',
      tags,
      security,
      summary: 'Upload one part (streamed)',
      request: { params: partParams, body: binaryBody('The part’s bytes') },
      responses: { 200: jsonResponse(uploadedPart, 'Stored'), ...errorResponses(404, 409, 411, 422) },
    }),
    async (c) => {
      const { uploadId, partNumber } = c.req.valid('param');
      const result = await uploadPart(deps, c.get('session').accountId, uploadId, partNumber, contentLength(c), bodyOf(c));
      return c.json(result, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/uploads/{uploadId}',
      tags,
      security,
      summary: 'Which parts of a resumable upload arrived',
      description:
        'The parts the server stored, with their sizes: a client whose connection dropped sends only the missing ones (a part sent again replaces the stored one). Another account’s upload is 404, like an unknown one.',
      request: { params: uploadIdParam },
      responses: { 200: jsonResponse(uploadStatus, 'The upload as stored'), ...errorResponses(404) },
    }),
    async (c) => c.json(await readUploadStatus(deps, c.get('session').accountId, c.req.valid('param').uploadId), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/uploads/{uploadId}/complete',
      tags,
      security,
      summary: 'Finish a resumable upload',
      description:
        'Joins the parts, then reads the object back to check its size and SHA-256 before committing the blob. Safe to repeat: after a 503 (nothing is lost; the parts stay) the same call finishes the job, and once completed it answers the same blob again.',
      request: { params: uploadIdParam },
      responses: { 201: jsonResponse(blobInfo, 'Committed'), ...errorResponses(404, 422, 507) },
    }),
    async (c) => c.json(await completeUpload(deps, c.get('session').accountId, c.req.valid('param').uploadId), 201),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/uploads/{uploadId}',
      tags,
      security,
      summary: 'Abandon a resumable upload',
      request: { params: uploadIdParam },
      responses: { 204: { description: 'Discarded with its parts' }, ...errorResponses(404) },
    }),
    async (c) => {
      await abortUpload(deps, c.get('session').accountId, c.req.valid('param').uploadId);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/blobs/presign',
      tags,
      security,
      summary: 'Upload straight to the bucket',
      description:
        'Where the store supports it (S3 with S3_PRESIGN=true): returns a presigned PUT for exactly this size. Then call POST /v1/blobs/{blobId}/commit, which checks the stored size and hash.',
      request: { body: jsonBody(declaredBlob) },
      responses: {
        201: jsonResponse(z.object({ blobId: z.string(), request: presignedRequest }).openapi('PresignedUpload'), 'Presigned'),
        ...errorResponses(507),
      },
    }),
    async (c) => c.json(await presignUpload(deps, c.get('session').accountId, c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/blobs/{blobId}/commit',
      tags,
      security,
      summary: 'Commit a blob uploaded with a presigned PUT',
      request: { params: blobIdParam },
      responses: { 200: jsonResponse(blobInfo, 'Committed'), ...errorResponses(404, 422, 507) },
    }),
    async (c) => c.json(await commitPresigned(deps, c.get('session').accountId, c.req.valid('param').blobId), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/blobs/{blobId}/url',
      tags,
      security,
      summary: 'A presigned GET for a blob',
      request: { params: blobIdParam },
      responses: {
        200: jsonResponse(z.object({ blobId: z.string(), request: presignedRequest }).openapi('PresignedDownload'), 'Presigned'),
        ...errorResponses(404),
      },
    }),
    async (c) => c.json(await presignDownload(deps, c.get('session').accountId, c.req.valid('param').blobId), 200),
  );

  return router;
}
