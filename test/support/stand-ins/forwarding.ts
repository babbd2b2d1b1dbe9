import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CommandResult } from '../../../helpers/provision/runner.ts';
import { shellQuote, writeScript } from '../temp.ts';

/**
 * Stand-in executables that a test answers from its own process. The production runner spawns them, so the
 * process boundary (arguments, stdin, stdout, stderr, exit code, timeouts) is real; what they answer comes from
 * the test's cluster model over loopback. Each is a shell script that sends its call with curl and runs what the
 * server answers: a run of the suites makes a hundred or more such calls, and sh with curl starts in a few
 * milliseconds where Node takes a tenth of a second.
 */

/** One call as the stand-in received it, less the access flags (withoutAccessFlags). */
export interface StandInCall {
  tool: string;
  args: string[];
  stdin: string;
}

export interface StandInServer {
  url: string;
  /** Every call, in the order they came. */
  calls: StandInCall[];
  close(): Promise<void>;
}

/**
 * The run's kubeconfig and context flags (`--context`, helm's `--kube-context`, `--kubeconfig`, each with its value):
 * the cluster behind the stand-ins is the one cluster there is, so they are read and dropped.
 */
function withoutAccessFlags(args: string[]): string[] {
  const valued = new Set(['--context', '--kube-context', '--kubeconfig']);
  return args.filter((arg, i) => !valued.has(arg) && !valued.has(args[i - 1] ?? ''));
}

/** What the stand-in evaluates to behave as the tool did: its stdout, its stderr, its exit code. */
function asScript(result: CommandResult): string {
  return `printf '%s' ${shellQuote(result.stdout)}\nprintf '%s' ${shellQuote(result.stderr)} >&2\nexit ${result.exitCode}\n`;
}

/**
 * Serves the calls of stand-ins written by writeForwardingStandIns: POST /run takes a call as form fields (`tool`,
 * one `arg` each, `stdin`) and answers it with `answer`'s result, as a script. `routes` answers other paths (a
 * port-forward asking where its target is) with the request body.
 */
export async function serveStandIns(
  answer: (call: StandInCall) => CommandResult | Promise<CommandResult>,
  routes: Record<string, (body: string) => Promise<string>> = {},
): Promise<StandInServer> {
  const calls: StandInCall[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const route = routes[req.url ?? ''];
    if (route) {
      res.end(await route(body).catch((error: Error) => JSON.stringify({ error: error.message })));
      return;
    }
    if (req.url !== '/run') {
      res.statusCode = 404;
      res.end();
      return;
    }
    const fields = new URLSearchParams(body);
    const call: StandInCall = { tool: fields.get('tool') ?? '', args: withoutAccessFlags(fields.getAll('arg')), stdin: fields.get('stdin') ?? '' };
    calls.push(call);
    const result = await Promise.resolve()
      .then(() => answer(call))
      .catch((error: Error): CommandResult => ({ exitCode: 1, stdout: '', stderr: `stand-in ${call.tool}: ${error.message}\n` }));
    res.end(asScript(result));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Writes one stand-in per name into `dir`, each passing its calls to the server at `url` (serveStandIns).
 * `delegate` hands some calls to another executable instead, e.g. `kubectl port-forward`, which must listen and
 * relay until it is stopped. Returns each stand-in's path.
 */
export function writeForwardingStandIns<Name extends string>(
  dir: string,
  names: readonly Name[],
  url: string,
  delegate: Partial<Record<Name, { whenArg: string; to: string }>> = {},
): Record<Name, string> {
  mkdirSync(dir, { recursive: true });
  const written = {} as Record<Name, string>;
  for (const name of names) {
    const handOff = delegate[name];
    written[name] = writeScript(
      dir,
      name,
      [
        ...(handOff ? [`case " $* " in *${shellQuote(` ${handOff.whenArg} `)}*) exec ${shellQuote(handOff.to)} "$@" ;; esac`] : []),
        // Each argument as a form field of its own, so spaces, quotes and newlines arrive as they were given.
        'for arg do shift; set -- "$@" --data-urlencode "arg=$arg"; done',
        'input=-',
        '[ -t 0 ] && input=/dev/null',
        `answer=$(curl --silent --show-error --fail --data-urlencode tool=${name} "$@" --data-urlencode "stdin@$input" ${shellQuote(`${url}/run`)}) || exit 2`,
        'eval "$answer"',
      ].join('\n'),
    );
  }
  return written;
}
