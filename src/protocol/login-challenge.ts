import { concatBytes, utf8 } from './encoding.js';

/** The canonical message a client signs with its login key to answer a login challenge. */
export function loginChallengeMessage(input: {
  origin: string;
  challengeId: string;
  challenge: Uint8Array;
}): Uint8Array {
  // A newline inside a field would let two different (origin, challengeId) pairs sign the same bytes.
  if (input.origin.includes('\n') || input.challengeId.includes('\n')) {
    throw new Error('login challenge: origin and challengeId must not contain newlines');
  }
  return concatBytes(
    utf8(`homing/v1/login-challenge\n${input.origin}\n${input.challengeId}\n`),
    input.challenge,
  );
}
