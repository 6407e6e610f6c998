/**
 * vitest globalSetup: starts ONE local stack (moto + PostgreSQL 15 with TLS) for the whole run and hands its
 * coordinates to the tests through `inject('stack')`.
 */
import type { TestProject } from 'vitest/node';
import { startLocalStack } from './local-stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: {
      awsEndpoint: string;
      postgres: {
        host: string;
        port: number;
        superuser: string;
        superuserPassword: string;
        caFile: string;
      };
    };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startLocalStack({
    tls: true,
    log: (line) => console.log(`[local-stack] ${line}`),
  });
  const { host, port, superuser, superuserPassword, caFile } = stack.postgres;
  if (!caFile) {
    await stack.stop();
    throw new Error('local stack started without TLS: no CA file');
  }
  project.provide('stack', {
    awsEndpoint: stack.awsEndpoint,
    postgres: { host, port, superuser, superuserPassword, caFile },
  });
  return () => stack.stop();
}
