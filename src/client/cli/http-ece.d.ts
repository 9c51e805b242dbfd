// http_ece ships no types; this is the part of its API homing uses (RFC 8188 / RFC 8291 aes128gcm).
declare module 'http_ece' {
  import type { ECDH } from 'node:crypto';
  interface EceParams {
    version?: 'aes128gcm' | 'aesgcm';
    /** The receiver's (decrypt) or sender's (encrypt) P-256 key pair. */
    privateKey?: ECDH;
    /** The other side's public key; for aes128gcm decryption it is read from the header. */
    dh?: string | Buffer;
    authSecret?: string | Buffer;
    salt?: string | Buffer;
    rs?: number;
  }
  export function decrypt(buffer: Buffer, params: EceParams): Buffer;
  export function encrypt(buffer: Buffer, params: EceParams): Buffer;
}
