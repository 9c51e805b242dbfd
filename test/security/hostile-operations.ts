import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { uniqueEmail } from '../harness.js';
import type { Fixture } from './hostile-fixture.js';

// Reads the operations to fuzz off the app's own /openapi.json, and builds for each a request
// that is valid as far as a schema can tell, for the mutations to spoil. Anything the document
// names that this cannot build (a new parameter, content type or schema form) throws, so a new
// operation is fuzzed or the test says why it cannot be.

type Json = Record<string, any>;

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema: Json;
}

export interface Operation {
  /** e.g. "PATCH /v1/devices/{deviceId}" */
  key: string;
  method: string;
  template: string;
  parameters: Parameter[];
  bodyType?: 'application/json' | 'application/x-www-form-urlencoded' | 'application/octet-stream';
  bodySchema?: Json;
  credential: 'session' | 'device' | 'none';
}

const ID_PATTERN = '^[A-Za-z0-9_-]{22}$';
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const BODY_TYPES = new Set(['application/json', 'application/x-www-form-urlencoded', 'application/octet-stream']);

export function operationsOf(document: Json): Operation[] {
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(document.paths as Record<string, Json>)) {
    for (const method of METHODS.filter((m) => item[m])) {
      const op = item[method] as Json;
      const key = `${method.toUpperCase()} ${template}`;
      const content = Object.entries((op.requestBody?.content ?? {}) as Record<string, Json>);
      if (content.length > 1 || content.some(([type]) => !BODY_TYPES.has(type))) {
        throw new Error(`${key}: cannot fuzz a body of ${content.map(([type]) => type).join(', ')}`);
      }
      const schemes = ((op.security ?? []) as Json[]).flatMap((requirement) => Object.keys(requirement));
      operations.push({
        key,
        method: method.toUpperCase(),
        template,
        parameters: (op.parameters ?? []) as Parameter[],
        bodyType: content[0]?.[0] as Operation['bodyType'],
        bodySchema: content[0]?.[1].schema,
        credential: schemes.includes('deviceToken') ? 'device' : schemes.includes('session') ? 'session' : 'none',
      });
    }
  }
  return operations;
}

/** The path parameters and body fields an operation names: what its fixture must provide. */
export function namesOf(document: Json, operation: Operation): Set<string> {
  const names = new Set(operation.parameters.filter((p) => p.in === 'path').map((p) => p.name));
  const seen = new Set<Json>();
  const walk = (schema: Json | undefined) => {
    const resolved = resolve(document, schema ?? {});
    if (seen.has(resolved)) return;
    seen.add(resolved);
    for (const [name, property] of Object.entries((resolved.properties ?? {}) as Record<string, Json>)) {
      names.add(name);
      walk(property);
    }
    for (const inner of [resolved.items, ...(resolved.oneOf ?? []), ...(resolved.anyOf ?? [])]) if (inner) walk(inner);
  };
  walk(operation.bodySchema);
  return names;
}

/** A value the schema accepts, preferring what the fixture says a field must name. */
export function validValue(document: Json, schema: Json, fixture: Fixture, where: string): unknown {
  const resolved = resolve(document, schema);
  // A fresh id rather than the example: creating two things with one id is a conflict, not a test.
  if (resolved.pattern === ID_PATTERN) return toBase64Url(randomBytes(16));
  if (resolved.oneOf ?? resolved.anyOf) return validValue(document, (resolved.oneOf ?? resolved.anyOf)[0], fixture, where);
  if (resolved.enum) return resolved.enum[0];
  if (resolved.example !== undefined) return resolved.example;
  if (resolved.default !== undefined) return resolved.default;
  const type = [resolved.type].flat().find((t) => t !== 'null');
  switch (type) {
    case 'object':
      return Object.fromEntries(
        Object.entries((resolved.properties ?? {}) as Record<string, Json>).map(([name, property]) => [
          name,
          name in fixture.fieldValues ? fixture.fieldValues[name] : validValue(document, property, fixture, `${where}.${name}`),
        ]),
      );
    case 'array':
      return Array.from({ length: Math.max(1, resolved.minItems ?? 1) }, () => validValue(document, resolved.items, fixture, `${where}[]`));
    case 'integer':
    case 'number':
      return resolved.minimum ?? 1;
    case 'boolean':
      return true;
    case 'string':
      return validString(resolved, where);
  }
  throw new Error(`${where}: no valid value for schema ${JSON.stringify(resolved).slice(0, 200)}`);
}

function validString(schema: Json, where: string): string {
  if (schema.format === 'email') return uniqueEmail('hostile');
  if (schema.pattern === '^[0-9a-f]{64}$') return createHash('sha256').update(randomBytes(8)).digest('hex');
  // Most strings here are base64url of a fixed length, which a run of A satisfies.
  const plain = 'A'.repeat(Math.max(1, schema.minLength ?? 1));
  if (!schema.pattern || new RegExp(schema.pattern).test(plain)) return plain;
  const fits = (s: string) => s.length >= (schema.minLength ?? 0) && s.length <= (schema.maxLength ?? Infinity);
  const sample = fc.sample(fc.stringMatching(new RegExp(schema.pattern)), { numRuns: 20, seed: 1 }).find(fits);
  if (sample === undefined) throw new Error(`${where}: no string matches ${schema.pattern} within the length limits`);
  return sample;
}

function resolve(document: Json, schema: Json): Json {
  if (typeof schema?.$ref !== 'string') return schema ?? {};
  return resolve(document, schema.$ref.slice(2).split('/').reduce((node: Json, key: string) => node[key], document));
}

// Bodies the document does not describe field by field.
const TWILIO_FORM = { From: '+447700900123', To: '+15005550006', Body: 'HOMING-hostile', MessageSid: `SM${'0'.repeat(32)}` };
const BLOB_BYTES = 64;

export interface BaseRequest {
  pathValues: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** A JSON or form body as a plain object, or the bytes of a streamed one. */
  body?: Json | Uint8Array;
}

/** The operation's request, valid as far as the document says, aimed at the fixture's resources. */
export function baseRequest(document: Json, operation: Operation, fixture: Fixture): BaseRequest {
  const pathValues: Record<string, string> = {};
  const query: Record<string, string> = {};
  const headers: Record<string, string> = {};
  if (operation.credential !== 'none') {
    headers.Authorization = `Bearer ${operation.credential === 'device' ? fixture.deviceToken : fixture.sessionToken}`;
  }
  let body: BaseRequest['body'];
  if (operation.bodyType === 'application/json') body = validValue(document, operation.bodySchema!, fixture, 'body') as Json;
  if (operation.bodyType === 'application/x-www-form-urlencoded') body = { ...TWILIO_FORM };
  if (operation.bodyType === 'application/octet-stream') body = new Uint8Array(randomBytes(BLOB_BYTES));

  for (const parameter of operation.parameters) {
    const where = `${operation.key} ${parameter.in} parameter ${parameter.name}`;
    if (parameter.in === 'path') {
      const value = fixture.pathValues[parameter.name];
      if (value === undefined) throw new Error(`${where}: the fixture has no resource for it (add one to hostile-fixture.ts)`);
      pathValues[parameter.name] = value;
    } else if (parameter.in === 'query') {
      query[parameter.name] = String(validValue(document, parameter.schema, fixture, where));
    } else if (parameter.name === 'content-length' && body instanceof Uint8Array) {
      // Set below for every streamed body.
    } else if (parameter.name === 'x-homing-sha256' && body instanceof Uint8Array) {
      headers['X-Homing-SHA256'] = createHash('sha256').update(body).digest('hex');
    } else if (parameter.in === 'header' && !(parameter as { required?: boolean }).required) {
      // An optional header (Range, If-None-Match) is sent as its documented example, or left out.
      if (parameter.schema.example !== undefined) headers[parameter.name] = String(parameter.schema.example);
    } else {
      throw new Error(`${where}: no valid value known for it`);
    }
  }
  if (operation.bodyType) headers['Content-Type'] = operation.bodyType;
  // Streamed bodies need their exact size, declared or not (clients always send it).
  if (body instanceof Uint8Array) headers['Content-Length'] = String(body.length);
  return { pathValues, query, headers, body };
}
