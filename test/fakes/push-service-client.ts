import type { FakeSubscription, ReceivedPush } from './push-service.js';

// The loopback push service's control routes over plain fetch, for tests that cannot reach the
// module (inside workerd), and so that one contract suite runs on Node and on Workers alike.

export interface PushServiceControl {
  origin: string;
  subscribe(options?: { applicationServerKey?: string }): Promise<FakeSubscription>;
  received(id: string): Promise<ReceivedPush[]>;
  refusals(id: string): Promise<{ id: string; reason: string }[]>;
  respondWith(id: string, ...answers: { status: number; retryAfter?: string }[]): Promise<void>;
}

export function pushServiceControl(origin: string): PushServiceControl {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${origin}/_control/subscriptions${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    return res.status === 204 ? undefined : res.json();
  };
  const messages = (id: string) => call('GET', `/${id}/messages`) as Promise<{ messages: ReceivedPush[]; refusals: { id: string; reason: string }[] }>;
  return {
    origin,
    subscribe: (options = {}) => call('POST', '', options) as Promise<FakeSubscription>,
    received: async (id) => (await messages(id)).messages,
    refusals: async (id) => (await messages(id)).refusals,
    respondWith: async (id, ...answers) => void (await call('POST', `/${id}/respond`, answers)),
  };
}
