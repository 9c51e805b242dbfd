import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { errorResponses, jsonResponse } from '../../http/openapi.js';
import { createRouter, SESSION_SECURITY } from '../../http/router.js';
import { id } from '../../protocol/api/common.js';
import { receipt } from '../../protocol/receipts.js';
import { getReceipt, listReceipts, receiptPublicKey } from './service.js';

export function receiptRoutes(deps: Deps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/receipts/key',
      tags: ['Deletion'],
      summary: "The server's receipt-signing public key",
      description: 'Pin it while the account exists: a receipt verifies offline against it (Ed25519).',
      responses: { 200: jsonResponse(z.object({ publicKey: z.string() }).meta({ id: 'ReceiptKey' }), 'The key, base64url') },
    }),
    (c) => c.json({ publicKey: receiptPublicKey(deps) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/receipts/{receiptId}',
      tags: ['Deletion'],
      summary: 'A deletion receipt by its id',
      description:
        'Public on purpose: the account it names may no longer exist. The id is 128 random bits, and a receipt holds ids, times and counts only.',
      request: { params: z.object({ receiptId: id('From the deletion that issued it') }) },
      responses: { 200: jsonResponse(receipt, 'The signed receipt'), ...errorResponses(404) },
    }),
    async (c) => c.json(await getReceipt(deps, c.req.valid('param').receiptId), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/account/receipts',
      tags: ['Deletion'],
      security: SESSION_SECURITY,
      summary: "This account's deletion receipts, newest first",
      responses: { 200: jsonResponse(z.object({ receipts: z.array(receipt) }).meta({ id: 'ReceiptList' }), 'Receipts') },
    }),
    async (c) => c.json({ receipts: await listReceipts(deps, c.get('session').accountId) }, 200),
  );

  return router;
}
