import { inspect } from 'node:util';
import { afterEach, beforeEach, expect, vi } from 'vitest';

/**
 * For a sender contract suite (SMS, e-mail): captures the console around each test and answers
 * `expectNowhere(values, errors)`, which fails if the sender's log, the console or a thrown error
 * holds one of the values or one of the subject's secrets.
 */
export function watchSenderOutput(subjectOf: () => { logged?: () => string[]; secrets: string[] }) {
  let printed: string[] = [];
  beforeEach(() => {
    printed = [];
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args.map((a) => inspect(a)).join(' ')));
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  return (values: string[], errors: unknown[] = []) => {
    const subject = subjectOf();
    const everything = [...(subject.logged?.() ?? []), ...printed, ...errors.map((e) => inspect(e, { depth: 20, showHidden: true }))].join('\n');
    for (const value of [...values, ...subject.secrets]) expect(everything).not.toContain(value);
  };
}

/** The error of type `type` that a send rejects with, failing the test if it resolves or throws something else. */
export async function sendErrorOf<E>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  const error = await promise.then(
    () => expect.unreachable('send resolved'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as E;
}
