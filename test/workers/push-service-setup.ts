import type { TestProject } from 'vitest/node';
import { startPushService } from '../fakes/push-service.js';

// The loopback push service runs in Node, beside workerd; the specs reach it over HTTP.
export default async function setup(project: TestProject) {
  const service = await startPushService();
  project.provide('pushServiceOrigin', service.origin);
  return () => service.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pushServiceOrigin: string;
  }
}
