import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRoute, z } from '@hono/zod-openapi';
import { isWebPagePath } from '../../src/features/web-page/routes.js';
import { jsonResponse, registerErrorSchemas, withMiddlewareErrors } from '../../src/http/openapi.js';
import { createRouter } from '../../src/http/router.js';
import { codesForStatus, ERROR_CODES, ERROR_STATUS } from '../../src/protocol/errors.js';
import { createTestApp, type TestApp } from '../harness.js';
import { createContractCheck, isSelfDescribing, type SeenResponse, withOpenApiContract } from '../openapi-contract.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const registeredRoutes = (t: TestApp) =>
  t.app.routes
    .filter((r) => r.method !== 'ALL' && !isSelfDescribing(r.path) && !isWebPagePath(r.path))
    .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);

describe('OpenAPI', () => {
  it('describes every route the app serves, in OpenAPI 3.1', async () => {
    const response = await t.request('GET', '/openapi.json');
    expect(response.status).toBe(200);
    const doc = await response.json();
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    const routes = registeredRoutes(t);
    expect(routes.length).toBeGreaterThan(15);
    expect(documented.sort()).toEqual([...new Set(routes)].sort());
  });

  it('declares the error shape and the auth schemes', async () => {
    const doc = await (await t.request('GET', '/openapi.json')).json();
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['deviceToken', 'session', 'sessionCookie']);
    expect(doc.components.schemas.Error.properties.error.required).toEqual(['code', 'message', 'requestId']);
    expect(doc.paths['/v1/devices/{deviceId}'].delete.responses['404']).toBeDefined();
  });
});

const documentOf = async (t: TestApp) => (await t.request('GET', '/openapi.json')).json();
const ID = 'q3XbUoXQk0Rk2xXm3oQy1A';
const errorBody = (code: string) => ({ error: { code, message: 'what went wrong', requestId: 'r1' } });
const seen = (method: string, path: string, status: number, body?: unknown, mediaType = 'application/json'): SeenResponse => ({
  method,
  path,
  status,
  ...(body === undefined ? {} : { mediaType, body }),
});

describe('the error contract in the document', () => {
  it('publishes code as the enum of the protocol error codes, and under each status the codes it carries', async () => {
    const { schemas } = (await documentOf(t)).components;
    expect(schemas.ErrorCode.enum).toEqual(ERROR_CODES);
    expect(schemas.Error.properties.error.properties.code).toEqual({ $ref: '#/components/schemas/ErrorCode' });
    for (const status of new Set(Object.values(ERROR_STATUS))) {
      expect(schemas[`Error${status}`].properties.error.properties.code.enum).toEqual(codesForStatus(status));
    }
  });

  it('lists on every operation the statuses its middleware can answer', async () => {
    const doc = await documentOf(t);
    const statuses = (path: string, method: string) => Object.keys(doc.paths[path][method].responses);
    expect(statuses('/v1/sync/changes', 'post')).toEqual(['200', '400', '401', '403', '404', '409', '413', '415', '429', '500', '503']);
    // A device token is no cookie, so it needs no CSRF token: no 403 there.
    expect(statuses('/v1/device/find', 'put')).toEqual(['200', '400', '401', '413', '415', '429', '500', '503']);
    // A streamed upload is not under the JSON body limit, and is not parsed.
    expect(statuses('/v1/uploads/{uploadId}/parts/{partNumber}', 'put')).not.toContain('413');
    expect(statuses('/v1/uploads/{uploadId}/parts/{partNumber}', 'put')).not.toContain('415');
    expect(statuses('/healthz', 'get')).toEqual(['200', '500', '503']);
    for (const item of Object.values(doc.paths as Record<string, Record<string, { responses: object }>>)) {
      for (const operation of Object.values(item)) expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['500', '503']));
    }
  });
});

describe('the contract check', () => {
  it('rejects a status the operation does not document', async () => {
    const doc = await documentOf(t);
    delete doc.paths['/v1/sync/changes'].post.responses['404'];
    expect(createContractCheck(doc)(seen('POST', '/v1/sync/changes', 404, errorBody('not_found')))).toEqual([
      expect.stringMatching(/^POST \/v1\/sync\/changes answered 404 not_found, a status POST \/v1\/sync\/changes does not document/),
    ]);
  });

  it('rejects an error code its status does not list, on an operation and off one', async () => {
    const check = createContractCheck(await documentOf(t));
    expect(check(seen('GET', `/v1/devices/${ID}`, 404, errorBody('conflict')))).toEqual([
      expect.stringContaining('code conflict is not one of the codes documented for this status (not_found)'),
    ]);
    expect(check(seen('GET', '/v1/nothing-here', 404, errorBody('unauthorized')))).toEqual([
      expect.stringContaining('code unauthorized is not one of'),
    ]);
  });

  it('reports a real route that fails unexpectedly, though the document allows 500', async () => {
    const check = createContractCheck(await documentOf(t));
    expect(check(seen('GET', `/v1/devices/${ID}`, 500, errorBody('internal_error')))).toEqual([
      'GET /v1/devices/q3XbUoXQk0Rk2xXm3oQy1A answered 500 internal_error: an unexpected error in GET /v1/devices/{deviceId}, logged under requestId r1',
    ]);
    expect(check(seen('GET', '/test-only-route', 500, errorBody('internal_error')))).toEqual([]);
  });

  it('rejects a body that does not match the documented schema, or a media type the status does not document', async () => {
    const check = createContractCheck(await documentOf(t));
    expect(check(seen('GET', `/v1/devices/${ID}`, 200, { name: 1 }))).toEqual([expect.stringContaining('does not match the documented schema')]);
    const { requestId: _, ...noRequestId } = errorBody('not_found').error;
    expect(check(seen('GET', `/v1/devices/${ID}`, 404, { error: noRequestId }))).toEqual([
      expect.stringContaining("must have required property 'requestId'"),
    ]);
    expect(check(seen('GET', `/v1/blobs/${ID}`, 200, { blob: true }))).toEqual([
      expect.stringContaining('documents application/octet-stream for 200'),
    ]);
  });

  it('accepts what the document promises, and leaves the page and the document itself alone', async () => {
    const check = createContractCheck(await documentOf(t));
    const presigned = { blobId: ID, request: { url: 'https://s3.example/b', method: 'PUT', headers: {}, expiresAt: 1 } };
    expect(check(seen('GET', `/v1/devices/${ID}`, 404, errorBody('not_found')))).toEqual([]);
    expect(check(seen('POST', '/v1/blobs/presign', 201, presigned))).toEqual([]); // the literal path, not /v1/blobs/{blobId}
    expect(check(seen('GET', `/v1/blobs/${ID}`, 206, 'bytes', 'application/octet-stream'))).toEqual([]);
    expect(check(seen('GET', '/v1/nothing-here', 404, errorBody('not_found')))).toEqual([]);
    expect(check(seen('GET', '/assets/world.json', 200, {}))).toEqual([]);
    expect(check(seen('GET', '/docs', 200))).toEqual([]);
    expect(check(seen('GET', '/docs/redoc.standalone.js.LICENSE.txt', 200))).toEqual([]);
  });
});

/** An app whose one route answers a 404 it does not document. */
function undocumentedAnswerApp() {
  const app = createRouter();
  const route = createRoute({
    method: 'get',
    path: '/v1/things/{thingId}',
    request: { params: z.object({ thingId: z.string() }) },
    responses: { 200: jsonResponse(z.object({ ok: z.boolean() }), 'The thing') },
  });
  app.openapi(route, (c) => c.json(errorBody('not_found'), 404) as never);
  registerErrorSchemas(app.openAPIRegistry);
  app.get('/openapi.json', (c) => c.json(withMiddlewareErrors(app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '0' } }))));
  return app;
}

describe('every response a test sees', () => {
  it('is checked against the document, naming method, path, status and code', async () => {
    const problems: string[] = [];
    const app = withOpenApiContract(undocumentedAnswerApp(), (found) => problems.push(...found));
    expect((await app.request('/v1/things/t1')).status).toBe(404);
    expect(problems).toEqual([
      'GET /v1/things/t1 answered 404 not_found, a status GET /v1/things/{thingId} does not document (it documents 200, 400, 500, 503)',
    ]);
  });

  it.fails('fails the test that saw an undocumented answer, even when the test ignores it', async () => {
    await withOpenApiContract(undocumentedAnswerApp()).request('/v1/things/t1');
  });
});
