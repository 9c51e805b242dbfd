import { maskEmail } from '../../adapters/email.js';
import type { Deps } from '../../deps.js';
import { accountsToNotify } from '../accounts/service.js';
import { publishedPolicy, recordEmailed, untoldAmong } from '../policy/service.js';

/** At most this many e-mails per run: a big server spreads a policy change over several runs. */
export const NOTICES_PER_RUN = 200;
const PAGE = 500;

/**
 * The housekeeping job that e-mails every account not yet told of the policy in force (nor
 * accepted it: sign-up accepts the version it shows). Idempotent through policy_notices: an
 * account with a row for the version is not mailed again. The row is written after the message
 * is handed to the mail server, so a crash in between sends that one message twice on the next
 * run; it never skips anyone. A message that fails is retried on the next run.
 */
export async function sendPolicyNotices(deps: Deps, max = NOTICES_PER_RUN) {
  const policy = await publishedPolicy(deps);
  let sent = 0;
  let failed = 0;
  for (let after = ''; sent + failed < max; ) {
    const page = await accountsToNotify(deps, after, PAGE);
    if (page.length === 0) break;
    after = page.at(-1)!.accountId;
    const untold = new Set(await untoldAmong(deps, page.map((a) => a.accountId), policy.version));
    for (const account of page) {
      if (!untold.has(account.accountId) || sent + failed >= max) continue;
      try {
        await deps.email.send({ to: account.email, ...noticeMessage(deps, policy) });
      } catch (err) {
        failed++;
        deps.log.warn('policy notice not sent; retried next run', { accountId: account.accountId, to: maskEmail(account.email), error: String(err) });
        continue;
      }
      await recordEmailed(deps, account.accountId, policy.version);
      sent++;
    }
  }
  if (sent || failed) deps.log.info('policy notices', { version: policy.version, sent, failed });
  return { sent, failed };
}

function noticeMessage(deps: Deps, policy: { version: number; reducesRights: boolean }) {
  const url = `${deps.config.publicOrigin}/v1/policy`;
  const rights = policy.reducesRights
    ? 'This version reduces your rights. Until you accept it, the server treats the choices you made under earlier versions as withdrawn: ' +
      'sync of your data, Find Device, SIM-change SMS and anything else you agreed to stay off until you agree again. Nothing stored is deleted.'
    : 'This version does not reduce your rights: your choices stay as they are.';
  return {
    subject: `homing: the privacy policy changed (version ${policy.version})`,
    text: [
      `The privacy policy of ${deps.config.publicOrigin} is now at version ${policy.version}.`,
      '',
      rights,
      '',
      `Read it at ${url}, then accept it in the app or with \`homing policy --accept\`.`,
      'You can see and change every consent with `homing consents`.',
    ].join('\n'),
  };
}
