/**
 * Errors a user can act on. They are printed as a message and a fix, never as a stack trace:
 * a stack trace tells a platform engineer nothing about why their Docker or their config is wrong.
 */
export class MeshproofError extends Error {
  override readonly name = 'MeshproofError';
  constructor(
    message: string,
    /** What to do about it, one or more sentences. */
    readonly fix: string | undefined = undefined,
    /** 2 = the user's configuration is invalid; 1 = the environment or the mesh is not as needed. */
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** An invalid configuration value: exit code 2, before anything else happens. */
export class ConfigError extends MeshproofError {
  constructor(message: string, fix?: string) {
    super(message, fix, 2);
  }
}

/**
 * One problem a schema found, as a person reads it: where ("spec.http.0.route"), then what is wrong; `whole`
 * names the top when the problem is the value itself ("(the whole file)", "the body").
 */
export function describeIssue(issue: { path: readonly PropertyKey[]; message: string }, whole: string): string {
  return `${issue.path.map(String).join('.') || whole}: ${issue.message}`;
}

/**
 * What an error says, in one line: its message, and its cause's where the cause adds something (undici's
 * "fetch failed" keeps the reason, ECONNREFUSED or a reset, in `cause`). Every stage words what it saw with it,
 * waiting or not, so it lives here with the other wording of errors.
 */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message && !error.message.includes(cause.message)
      ? `${error.message} (${cause.message})`
      : error.message;
  }
  return String(error);
}

export function formatUserError(error: MeshproofError): string {
  const lines = [`meshproof: ${error.message}`];
  if (error.fix) lines.push('', ...error.fix.split('\n').map((line) => `  ${line}`));
  return lines.join('\n');
}

/**
 * Runs `body`; a MeshproofError becomes a clean message on stderr and the process exits with its code.
 * Anything else is a bug in meshproof and keeps its stack trace.
 */
export async function exitOnUserError<T>(body: () => Promise<T> | T): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof MeshproofError) {
      process.stderr.write(`\n${formatUserError(error)}\n\n`);
      process.exit(error.exitCode);
    }
    throw error;
  }
}
