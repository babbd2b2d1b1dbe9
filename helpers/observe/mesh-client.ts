/**
 * Traffic from inside the mesh: N requests from a client pod (istio's `samples/curl/curl.yaml`,
 * `curlimages/curl:8.16.0`, Alpine with busybox sh) in ONE `kubectl exec`, recorded in the same
 * RequestRecord format as the host-side driver.
 *
 * curl facts this relies on (curl/curl docs/cmdline-opts/*.md; the local self-test runs the command with
 * whatever curl the machine has, so everything used here predates 8.16):
 *   - `--parallel` / `-Z` and `--parallel-max <n>` (7.66.0): up to n transfers at once, default 50. The
 *     largest accepted value was 300 until curl/curl#18068 (July 2025, so probably in 8.16.0; not checked
 *     against the tag) raised it to 65535; older curls clamp to 300 (curl/curl#8930), so concurrency above
 *     300 is refused here rather than silently reduced.
 *   - `--parallel-immediate` (7.68.0): open connections at once instead of waiting to multiplex.
 *   - `--no-progress-meter` (7.67.0): observed with curl 7.88.1, `--silent` alone still printed the
 *     parallel progress meter to stderr, which would bury the error lines.
 *   - `--write-out` (write-out.md): printed after every transfer, "independently of if the file transfer
 *     was successful or not". `%{json}` (7.70.0) is one line of JSON with every variable except
 *     `header_json`, including `http_code`, `time_total` (seconds), `exitcode` and `errormsg` (7.75.0;
 *     errormsg is null on success) and `urlnum` (7.75.0, 0-indexed per URL argument); curl escapes the
 *     strings, so an error message cannot break the line. `%header{name}` (7.84.0) prints one response
 *     header's value. `%time{format}` (8.16.0) is not used: the local curl may be older.
 *   - exit code 56 is CURLE_RECV_ERROR, "Failure in receiving network data": what a plaintext client gets
 *     when a STRICT-mTLS sidecar resets it, with http_code 000 (istio.io authn-policy task).
 *   - `-o <file>` per URL writes each transfer's body to its own file; the script then prints the start of
 *     each (busybox `head -c` and `tr` in the Alpine image), so an Envoy local reply's text reaches the record.
 */
import { z } from 'zod';
import { MeshproofError } from '../errors.ts';
import { keptBody, keptBodyLength, type RequestRecord } from './records.ts';
import type { ClusterRunner } from '../provision/runner.ts';

export interface CurlBatchOptions {
  /** The URL as the pod sees it, e.g. http://productpage:9080/productpage. */
  url: string;
  count: number;
  /** Transfers at once (curl's --parallel-max), 1…300. */
  concurrency: number;
  /** One transfer, whole (curl's --max-time), from the timeouts object (`request`). */
  timeoutMs: number;
  headers?: Record<string, string>;
  /** Response headers to copy into each record (curl's `%header{name}`). */
  keepHeaders?: string[];
  /** Reads a class from the start of the body (e.g. the reviews version from `podname`). */
  classifyBody?: (status: number, bodyStart: string) => string | undefined;
}

/** Runs argv in the client pod (kubectl exec … -- argv) and returns what it printed and its exit code. */
export type PodExec = (argv: string[]) => Promise<{ stdout: string; stderr: string; exitCode: number }>;

/** The largest --parallel-max every curl since 7.66 accepts (newer curls accept 65535). */
export const maxCurlConcurrency = 300;

// The URL list is built inside the pod, so the exec's own argv (which travels in the API request's URL)
// stays short whatever the count: `set --` appends `-o <dir>/<i> <url>` count times, then curl runs once.
// Everything variable arrives as a positional parameter, never spliced into the script: no quoting bugs.
// After curl, the start of every non-empty body is printed as `#body<TAB><i><TAB><text>`, one line each: its
// lines joined by spaces until keptBodyLength is reached (parseCurlBatch cuts it and turns tabs and CRs into
// spaces). Only shell builtins (read, printf, test) do it, with no process per body: `head | tr` per file cost two
// forks per request, about 1 CPU-second per 600 requests, in the pod as on a test machine. `read` takes a line
// byte by byte, which is cheap for these bodies (short lines of HTML, JSON and Envoy's local replies). A last line
// without a newline is what `read` leaves in `l` when it meets the end of the file.
const batchScript = [
  'n=$1; u=$2; shift 2',
  'd=$(mktemp -d) || exit 70',
  'i=0',
  'while [ "$i" -lt "$n" ]; do set -- "$@" -o "$d/$i" "$u"; i=$((i + 1)); done',
  'curl "$@"; rc=$?',
  'for f in "$d"/*; do',
  '  [ -s "$f" ] || continue',
  `  s=; l=; while IFS= read -r l; do s="$s$l "; l=; [ \${#s} -ge ${keptBodyLength} ] && break; done < "$f"`,
  `  printf '#body\\t%s\\t%s\\n' "\${f##*/}" "$s$l"`,
  'done',
  'rm -rf "$d"',
  'exit "$rc"',
].join('\n');

/**
 * The argv to run in the pod: `sh -c <script> meshproof-batch <count> <url> <curl options…>`. Prefix it with
 * `kubectl exec -n <ns> <pod> -c <container> --` (see `kubectlExecArgv`).
 */
export function buildCurlBatch(options: CurlBatchOptions): string[] {
  validate(options);
  const keep = normaliseHeaderNames(options.keepHeaders);
  const writeOut = `%{json}${keep.map((name) => `\\t%header{${name}}`).join('')}\\n`;
  const curlOptions = [
    '--silent',
    '--show-error', // the error text goes to stderr per transfer; the write-out line carries it too
    '--no-progress-meter', // 7.67.0; curl 7.88 still drew the parallel meter on stderr under --silent
    '--globoff', // [] and {} in a URL are literal, not curl's URL globbing
    '--parallel',
    '--parallel-immediate',
    '--parallel-max',
    String(options.concurrency),
    '--max-time',
    String(options.timeoutMs / 1000),
    '--write-out',
    writeOut,
    ...Object.entries(options.headers ?? {}).flatMap(([name, value]) => ['--header', `${name}: ${value}`]),
  ];
  return ['sh', '-c', batchScript, 'meshproof-batch', String(options.count), options.url, ...curlOptions];
}

/** `kubectl exec -n <ns> <pod> [-c <container>] -- <command…>` (the arguments after `kubectl`). */
export function kubectlExecArgv(
  target: { namespace: string; pod: string; container?: string },
  command: string[],
): string[] {
  const container = target.container ? ['-c', target.container] : [];
  return ['exec', '-n', target.namespace, target.pod, ...container, '--', ...command];
}

const writeOutLine = z.object({
  http_code: z.number().int(),
  time_total: z.number(),
  exitcode: z.number().int(),
  errormsg: z.string().nullable(),
  urlnum: z.number().int().nonnegative(),
});

export interface ParseCurlBatchOptions {
  /** The headers asked for in buildCurlBatch, in the same order. */
  keepHeaders?: string[];
  /** Transfers expected; those without a line become records with an error instead of vanishing. */
  count?: number;
  /** Why lines may be missing (the exec's exit code and stderr), for those records' error. */
  missingReason?: string;
  classifyBody?: CurlBatchOptions['classifyBody'];
}

const bodyLinePrefix = '#body\t';

/**
 * One RequestRecord per write-out line, in URL order. curl reports no start time per transfer, so every
 * record carries the batch's `startedAt`; `latencyMs` is curl's time_total. No response gives status 0 and
 * `error` "curl exit code 56: Recv failure: Connection reset by peer".
 */
export function parseCurlBatch(
  stdout: string,
  startedAt: number,
  options: ParseCurlBatchOptions = {},
): RequestRecord[] {
  const keep = normaliseHeaderNames(options.keepHeaders);
  const byIndex = new Map<number, RequestRecord>();
  const bodies = new Map<number, string>();
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    if (line.startsWith(bodyLinePrefix)) {
      const [index = '', ...text] = line.slice(bodyLinePrefix.length).split('\t');
      bodies.set(Number(index), text.join(' '));
      continue;
    }
    const [json = '', ...values] = line.split('\t');
    let parsed: z.infer<typeof writeOutLine>;
    try {
      parsed = writeOutLine.parse(JSON.parse(json));
    } catch (error) {
      throw new MeshproofError(
        `the in-mesh curl printed a line that is not its --write-out JSON: ${JSON.stringify(line.slice(0, 200))}`,
        'The client pod needs curl 7.84 or later (curlimages/curl:8.16.0, as in istio samples/curl/curl.yaml). ' +
          `(${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
      );
    }
    const record: RequestRecord = {
      startedAt,
      latencyMs: Math.round(parsed.time_total * 1_000_000) / 1000,
      status: parsed.http_code,
    };
    if (keep.length) {
      // A tab inside the last header's value would split it; join the rest back into that one.
      const cells =
        values.length > keep.length
          ? [...values.slice(0, keep.length - 1), values.slice(keep.length - 1).join('\t')]
          : values;
      record.headers = {};
      keep.forEach((name, i) => {
        const value = cells[i];
        if (value) record.headers![name] = value;
      });
    }
    if (parsed.exitcode !== 0) {
      record.curlExitCode = parsed.exitcode;
      record.error = `curl exit code ${parsed.exitcode}: ${parsed.errormsg ?? 'no message'}`;
    } else if (parsed.http_code === 0) {
      record.error = 'curl reported no HTTP response';
    }
    byIndex.set(parsed.urlnum, record);
  }
  for (const [index, record] of byIndex) {
    const body = bodies.get(index);
    if (body === undefined) continue;
    const start = keptBody(body);
    if (record.status < 200 || record.status >= 300) record.body = start;
    if (options.classifyBody) {
      const classification = options.classifyBody(record.status, start);
      if (classification !== undefined) record.classification = classification;
    }
  }
  const count = options.count ?? (byIndex.size ? Math.max(...byIndex.keys()) + 1 : 0);
  const records: RequestRecord[] = [];
  for (let i = 0; i < count; i++) {
    records.push(
      byIndex.get(i) ?? {
        startedAt,
        latencyMs: 0,
        status: 0,
        error: `curl printed no result for transfer ${i}${options.missingReason ? ` (${options.missingReason})` : ''}`,
      },
    );
  }
  return records;
}

/**
 * Sends `count` requests from inside the mesh in one exec and records them. A batch that printed no result
 * at all (curl missing, the pod gone) is an environment problem and throws; single transfers that failed
 * are records with an error, as with the host-side driver.
 */
export async function sendFromPod(exec: PodExec, options: CurlBatchOptions): Promise<RequestRecord[]> {
  const argv = buildCurlBatch(options);
  const startedAt = Date.now();
  const result = await exec(argv);
  const stderrTail = result.stderr.trim().split('\n').slice(-3).join(' | ');
  const missingReason = `exit code ${result.exitCode}${stderrTail ? `: ${stderrTail}` : ''}`;
  if (options.count > 0 && !result.stdout.trim()) {
    throw new MeshproofError(
      `the in-mesh curl batch to ${options.url} printed no results (${missingReason})`,
      'Check that the client pod runs and has curl (istio samples/curl/curl.yaml, curlimages/curl:8.16.0).',
    );
  }
  return parseCurlBatch(result.stdout, startedAt, {
    keepHeaders: options.keepHeaders,
    count: options.count,
    missingReason,
    classifyBody: options.classifyBody,
  });
}

function normaliseHeaderNames(names: string[] | undefined): string[] {
  return (names ?? []).map((name) => {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) {
      throw new MeshproofError(`${JSON.stringify(name)} is not an HTTP header name`);
    }
    return name.toLowerCase();
  });
}

function validate(options: CurlBatchOptions): void {
  const problems: string[] = [];
  if (!Number.isInteger(options.count) || options.count < 0) {
    problems.push(`count ${options.count} (a whole number ≥ 0)`);
  }
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1 || options.concurrency > maxCurlConcurrency) {
    problems.push(
      `concurrency ${options.concurrency} (1…${maxCurlConcurrency}: older curls cap --parallel-max at 300)`,
    );
  }
  if (!(options.timeoutMs > 0) || !Number.isFinite(options.timeoutMs)) {
    problems.push(`timeoutMs ${options.timeoutMs} (ms > 0)`);
  }
  if (!/^https?:\/\//.test(options.url)) problems.push(`url ${JSON.stringify(options.url)} (http:// or https://)`);
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (/[\r\n]/.test(name + value)) problems.push(`header ${JSON.stringify(name)} (no line breaks)`);
  }
  if (problems.length) throw new MeshproofError(`the in-mesh curl batch was given an invalid ${problems.join(', ')}`);
}

/**
 * A PodExec over the cluster runner: one `kubectl exec` into a Deployment's pod (kubectl picks one pod of
 * the Deployment), so a whole curl batch costs one exec.
 */
export function podExec(runner: ClusterRunner, target: { namespace: string; deployment: string; container: string }, timeoutMs: number): PodExec {
  const argv = (command: string[]) => kubectlExecArgv({ namespace: target.namespace, pod: `deploy/${target.deployment}`, container: target.container }, command);
  return (command) => runner.run('kubectl', argv(command), { timeoutMs });
}
