import { MeshproofError } from '../errors.ts';

/*
 * Apart from runner.ts so that a pure reader of a tool's output (helpers/judge/analysis.ts, which `meshproof judge`
 * loads) does not load execa with it.
 */

// Enough of the output to recognise it (a warning, a usage text, an HTML page) without flooding the message.
const shownOutputChars = 200;

/**
 * What an external tool printed as JSON (helm, kubectl, docker, podman). Anything else (a warning before the
 * JSON, another version's text format, nothing at all) is a MeshproofError that names the command and shows
 * the start of what it printed, instead of a SyntaxError that names neither.
 */
export function parseToolJson(command: string, printed: string): unknown {
  try {
    return JSON.parse(printed);
  } catch {
    throw notJsonError(command, printed);
  }
}

/**
 * The error for a tool's output that should have been JSON: the command, the start of what it printed (or that it
 * printed nothing), and why it could not be read when that says more than "not JSON".
 */
export function notJsonError(command: string, printed: string, why?: string): MeshproofError {
  const start = printed.trim().slice(0, shownOutputChars);
  const cut = printed.trim().length > shownOutputChars ? '…' : '';
  const what = start ? `something that is not JSON${why ? ` (${why})` : ''}: ${JSON.stringify(start)}${cut}` : 'nothing where JSON was expected';
  return new MeshproofError(`\`${command}\` printed ${what}`, `Run \`${command}\` yourself to see all it prints.`);
}
