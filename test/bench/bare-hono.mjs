// The ceiling of the request-path benchmarks: one Hono route on @hono/node-server, nothing else
// (no middleware, no database), in its own process as the server is. Prints its URL when ready.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/bare', (c) => c.json({ ok: true }));
serve({ fetch: app.fetch, port: Number(process.argv[2]), hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`listening http://127.0.0.1:${info.port}\n`);
});
