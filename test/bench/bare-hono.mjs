// The ceiling of the request-path benchmarks: one Hono route on @hono/node-server, nothing else
// (no middleware, no database), in its own process as the server is. Prints its URL when ready.
// Given a JSON object of headers as its second argument, it also answers /bare-with-headers with
// them: the same route sending the bytes of homing's own response headers.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const headers = process.argv[3] ? JSON.parse(process.argv[3]) : {};
const app = new Hono();
app.get('/bare', (c) => c.json({ ok: true }));
app.get('/bare-with-headers', (c) => c.json({ ok: true }, 200, headers));
serve({ fetch: app.fetch, port: Number(process.argv[2]), hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`listening http://127.0.0.1:${info.port}\n`);
});
