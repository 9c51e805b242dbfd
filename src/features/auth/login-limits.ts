import type { Throttles } from '../throttles/service.js';
import {
  CHALLENGES_PER_ACCOUNT,
  CHALLENGES_PER_ACCOUNT_ADDRESS,
  CHALLENGES_PER_ADDRESS,
  LOGIN_FAILURES_PER_ACCOUNT,
  LOGIN_FAILURES_PER_ACCOUNT_ADDRESS,
  LOGIN_FAILURES_PER_ADDRESS,
  LOGIN_FAILURES_PER_TRUSTED_CLIENT,
} from '../throttles/service.js';

/**
 * Login limits that bound password guessing without handing a stranger the owner's lockout.
 *
 * An email is not a secret: a thief who holds the phone knows it. Were the strict limit keyed by
 * account alone, anyone could keep the owner out of Find Device with ten requests a minute. So:
 * - the strict limits (10 challenges a minute, backoff after 5 failures) are per (account,
 *   address), and per address across accounts (30 challenges, 20 failures): what a guesser at
 *   one address meets, and they slow nobody else down;
 * - the per-account limit (120 challenges a minute; backoff after 100 failures a day) is loose,
 *   and bounds a guesser spread over many addresses to about 135 guesses a day;
 * - a client that logged in to this account before (it holds a trusted-client token, or it is a
 *   logged-in session re-proving the password) skips the per-account limit and meets a strict
 *   limit of its own instead, so a distributed attacker who exhausts the account's limit still
 *   cannot lock the owner's own phone, laptop or browser out.
 * Every key comes from the email's blind index, never from whether an account exists, so an
 * unknown email is limited exactly like a known one.
 */
export function loginLimits(
  throttles: Throttles,
  input: { emailIndex: string; clientAddress: string; trustedClientId?: string },
) {
  const { emailIndex, clientAddress, trustedClientId } = input;
  const pair = `${emailIndex}|${clientAddress}`;
  const failureKeys = [
    { key: throttles.keyOf('login-failures:account-address', pair), policy: LOGIN_FAILURES_PER_ACCOUNT_ADDRESS },
    { key: throttles.keyOf('login-failures:address', clientAddress), policy: LOGIN_FAILURES_PER_ADDRESS },
    trustedClientId
      ? { key: throttles.keyOf('login-failures:trusted-client', trustedClientId), policy: LOGIN_FAILURES_PER_TRUSTED_CLIENT }
      : { key: throttles.keyOf('login-failures:account', emailIndex), policy: LOGIN_FAILURES_PER_ACCOUNT },
  ];
  const assertNotBlocked = () => throttles.assertNotBlocked(failureKeys.map((f) => f.key));

  return {
    /** Counts a challenge request and refuses it while any limit is exceeded or backing off. */
    async beforeChallenge() {
      await throttles.hit(throttles.keyOf('challenges:address', clientAddress), CHALLENGES_PER_ADDRESS);
      await throttles.hit(throttles.keyOf('challenges:account-address', pair), CHALLENGES_PER_ACCOUNT_ADDRESS);
      if (!trustedClientId) await throttles.hit(throttles.keyOf('challenges:account', emailIndex), CHALLENGES_PER_ACCOUNT);
      await assertNotBlocked();
    },

    /** A proof is checked only outside every backoff, so a right guess cannot slip through one. */
    beforeProof: assertNotBlocked,

    async recordFailure() {
      for (const { key, policy } of failureKeys) await throttles.recordFailure(key, policy);
    },

    /**
     * The guesser's own counts restart once the owner proves the password from there; the
     * per-account count does not, or the owner's every login would hand a distributed guesser
     * a fresh allowance.
     */
    async recordSuccess() {
      await throttles.clear(failureKeys[0]!.key);
      if (trustedClientId) await throttles.clear(failureKeys[2]!.key);
    },
  };
}
