// workerd's built-in module (only there: src/worker.ts imports it, Node never does). Declared here
// because tsconfig does not load @cloudflare/workers-types globally.
declare module 'cloudflare:email' {
  export class EmailMessage {
    constructor(from: string, to: string, raw: ReadableStream | string);
    readonly from: string;
    readonly to: string;
  }
}
