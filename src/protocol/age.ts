// The age rule server and clients share, in a module of its own so the web page can import it
// without the zod schemas of protocol/api/.

/**
 * "May be under 14", decided conservatively from the year alone: someone born in 2012 is still 13
 * until their birthday in 2026, so only this year minus the birth year above 14 counts as adult.
 * Server and clients share it, so a client asks for a guardian exactly when the server will.
 */
export const mayBeUnder14 = (birthYear: number, nowMs: number) => new Date(nowMs).getUTCFullYear() - birthYear <= 14;
