import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import { createRouter, DEVICE_SECURITY, SESSION_SECURITY } from '../../http/router.js';
import { errorResponses, jsonBody, jsonResponse } from '../../http/openapi.js';
import type { Throttles } from '../throttles/service.js';
import { deviceIdParam, simEvent, simEventBody, simEventIdParam, simEventResponse, verifyBody } from '../../protocol/api/sim.js';
import { receiveInboundSms, reportSimEvent, resendCode, simHistory, verifyCode } from './service.js';

export const INBOUND_WEBHOOK_PATH = '/v1/sms/inbound';

export function simRoutes(deps: Deps, throttles: Throttles) {
  const router = createRouter();
  const tags = ['SIM change'];

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/device/sim-events',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Report a SIM inserted, replaced or removed, and start verifying the new number',
      description:
        'outbound: a 6-digit code is texted to claimedNumber; submit it to …/verify. inbound: text the returned token from the phone to the returned number. Needs Find Device on.',
      request: { body: jsonBody(simEventBody) },
      responses: {
        201: jsonResponse(simEventResponse, 'Recorded'),
        ...errorResponses(403, 409, 422, 429),
      },
    }),
    async (c) => c.json(await reportSimEvent(deps, throttles, c.get('device'), c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/device/sim-events/{eventId}/verify',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Submit the code texted to the new number',
      description: 'Codes are single-use, valid 10 minutes, and void after 5 wrong tries.',
      request: { params: simEventIdParam, body: jsonBody(verifyBody) },
      responses: { 200: jsonResponse(simEventResponse, 'Verified'), ...errorResponses(404) },
    }),
    async (c) => c.json(await verifyCode(deps, c.get('device'), c.req.valid('param').eventId, c.req.valid('json').code), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/v1/device/sim-events/{eventId}/resend',
      tags,
      security: DEVICE_SECURITY,
      summary: 'Text a new code (limited per event, device and number)',
      request: { params: simEventIdParam },
      responses: { 200: jsonResponse(simEventResponse, 'Sent'), ...errorResponses(403, 404, 409, 422, 429) },
    }),
    async (c) => c.json(await resendCode(deps, throttles, c.get('device'), c.req.valid('param').eventId), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/v1/devices/{deviceId}/sim-events',
      tags,
      security: SESSION_SECURITY,
      summary: "A device's SIM history, with verified numbers and alerts",
      request: { params: deviceIdParam },
      responses: {
        200: jsonResponse(z.object({ events: z.array(simEvent) }).openapi('SimHistory'), 'Newest first'),
        ...errorResponses(404),
      },
    }),
    async (c) => c.json({ events: await simHistory(deps, c.get('session').accountId, c.req.valid('param').deviceId) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: INBOUND_WEBHOOK_PATH,
      tags,
      summary: "Twilio's webhook for SMS sent to the service number",
      description:
        'Set PUBLIC_URL/v1/sms/inbound as the Messaging webhook of SMS_INBOUND_NUMBER. Requests without a valid X-Twilio-Signature for that URL are refused and change nothing.',
      request: {
        body: {
          required: true,
          content: { 'application/x-www-form-urlencoded': { schema: z.record(z.string(), z.string()).openapi('TwilioInboundSms') } },
        },
      },
      responses: {
        200: { description: 'Empty TwiML', content: { 'text/xml': { schema: z.string() } } },
        ...errorResponses(403),
      },
    }),
    async (c) => {
      const params = Object.fromEntries(Object.entries(c.req.valid('form')).map(([k, v]) => [k, String(v)]));
      const url = `${deps.config.publicOrigin}${INBOUND_WEBHOOK_PATH}`;
      const genuine = deps.sms.verifyWebhook?.({ signature: c.req.header('X-Twilio-Signature'), url, params }) ?? false;
      if (!genuine) throw new AppError('forbidden', 'the webhook signature does not match');
      await receiveInboundSms(deps, { from: params.From ?? '', body: params.Body ?? '' });
      // Twilio gets the same empty answer whatever the message held, so it never retries and
      // the reply reveals nothing.
      return c.body('<?xml version="1.0" encoding="UTF-8"?><Response/>', 200, { 'Content-Type': 'text/xml' });
    },
  );

  return router;
}
