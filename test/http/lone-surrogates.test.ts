import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { createRouter } from '../../src/http/router.js';

// Every validated body is walked for lone surrogates after its schema passed (validation.ts); the
// refusal names the field, however deep it sits.

const app = createRouter();
app.openapi(
  createRoute({
    method: 'post',
    path: '/nested',
    request: {
      body: {
        content: { 'application/json': { schema: z.object({ list: z.array(z.object({ text: z.string() })), map: z.record(z.string(), z.string()) }) } },
      },
    },
    responses: { 200: { description: 'accepted' } },
  }),
  (c) => c.json({ ok: true }, 200),
);

const post = (body: string) => app.request('/nested', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });

describe('lone surrogates', () => {
  it('are refused by the path of the value that holds one', async () => {
    const res = await post('{"list":[{"text":"fine"},{"text":"fine"},{"text":"half \\udc00"}],"map":{}}');
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('validation_failed');
    expect(error.message).toBe('body.list.2.text: must be well-formed Unicode (it holds a lone surrogate)');
  });

  it('in a key are refused by the path of the object that holds it', async () => {
    const res = await post('{"list":[],"map":{"ok":"x","\\ud800":"y"}}');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^body\.map: must be well-formed Unicode/);
  });

  it('a whole pair is text, and passes', async () => {
    expect((await post('{"list":[{"text":"\\ud83d\\ude00"}],"map":{"\\ud83d\\ude00":"x"}}')).status).toBe(200);
  });
});
