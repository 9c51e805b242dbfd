// What the server tells its own page (src/web/) in the page's head, named once for both sides.
// Zod-free, so the page can import it without bundling a schema library.

/** `<meta name="homing-kdf-worker" content="/assets/kdf-worker.<hash>.js">`: the page's Argon2id worker. */
export const KDF_WORKER_META = 'homing-kdf-worker';
