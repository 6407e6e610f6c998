/** Any SDK v3 client: only its middleware stack is used. */
interface WithMiddleware {
  readonly middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/** How many commands a client has sent, by command name (`GetSecretValueCommand`). */
export interface CommandCounter {
  count(command: string): number;
  /** Every command sent, in order. */
  readonly sent: readonly string[];
}

/**
 * Counts the commands `client` sends, with a middleware on its own stack: what reaches the
 * SDK is what is counted, so a value served from a cache counts nothing.
 */
export function countCommands(client: object): CommandCounter {
  const sent: string[] = [];
  (client as WithMiddleware).middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { sent, count: (command) => sent.filter((name) => name === command).length };
}
