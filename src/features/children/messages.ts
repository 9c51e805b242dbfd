import { maskEmail } from '../../adapters/email.js';

// What a guardian is told. Each message says who asks (the child's address, masked: the mail may
// have gone to the wrong person), what the code consents to, and what happens if it is ignored.

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

interface Context {
  childEmail: string;
  origin: string;
  policyVersion: number;
}

export function consentRequest(
  ctx: Context & { pendingSignupId: string; forgottenAt: number },
): (code: string, minutes: number) => { subject: string; text: string } {
  const child = maskEmail(ctx.childEmail);
  return (code, minutes) => ({
    subject: 'homing: a child asks for your consent',
    text: [
      `Someone is opening a homing account with the e-mail address ${child} and gave a birth year under 14. They named you as their parent or guardian.`,
      '',
      `If you agree, give the child this code, or enter it yourself: ${code}`,
      `It works for ${minutes} minutes (sign-up ${ctx.pendingSignupId}).`,
      '',
      `By giving the code you consent, as the child's parent or guardian, to the account and to the use of its data described in the privacy policy, version ${ctx.policyVersion}: ${ctx.origin}/v1/policy`,
      'You can later have the account deleted: POST /v1/guardian/deletion, or `homing guardian delete-child`.',
      '',
      `If you do nothing, no account is created, and the request and everything in it are deleted on ${day(ctx.forgottenAt)}.`,
    ].join('\n'),
  });
}

export function consentRequestSms(ctx: Context & { forgottenAt: number }): (code: string, minutes: number) => { subject: string; text: string } {
  const child = maskEmail(ctx.childEmail);
  return (code, minutes) => ({
    subject: '',
    text: `homing: ${child} (under 14) asks you, as guardian, to consent to an account under policy v${ctx.policyVersion} (${ctx.origin}/v1/policy). Code ${code}, valid ${minutes} min. Ignore it and nothing is created; the request is deleted on ${day(ctx.forgottenAt)}.`,
  });
}

export function consentGiven(ctx: Context & { consentedAt: number; sms: boolean }) {
  const child = maskEmail(ctx.childEmail);
  if (ctx.sms) {
    return {
      subject: '',
      text: `homing: the account ${child} was created with your consent on ${day(ctx.consentedAt)}. To have it deleted: homing guardian delete-child.`,
    };
  }
  return {
    subject: 'homing: the account you consented to was created',
    text: [
      `The homing account ${child} was created on ${day(ctx.consentedAt)} with your consent as parent or guardian, under the privacy policy version ${ctx.policyVersion} (${ctx.origin}/v1/policy).`,
      '',
      'You can have it deleted at any time: POST /v1/guardian/deletion with the child\'s e-mail and this contact, or `homing guardian delete-child`. A code is then sent here to confirm.',
      '',
      'If you did not give a code, tell the operator of this server.',
    ].join('\n'),
  };
}

export function deletionRequest(ctx: Context & { graceDays: number; sms: boolean }) {
  const child = maskEmail(ctx.childEmail);
  return (code: string, minutes: number) =>
    ctx.sms
      ? {
          subject: '',
          text: `homing: code ${code} confirms deleting the account ${child} (valid ${minutes} min). Ignore it and nothing is deleted.`,
        }
      : {
          subject: "homing: confirm deleting your child's account",
          text: [
            `Someone asked, as the guardian of the homing account ${child}, to have it deleted.`,
            '',
            `To confirm, enter this code: ${code} (it works for ${minutes} minutes).`,
            `The account and all its data are then deleted, after a grace period of ${ctx.graceDays} days.`,
            '',
            'If you did not ask for this, ignore this message: nothing is deleted.',
          ].join('\n'),
        };
}
