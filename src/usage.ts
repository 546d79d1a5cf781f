// A mistake in how a command was called: the CLI prints the message and `usage` (the general
// usage when absent), exit status 1.
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}
