import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { request } from 'undici';
import { errorText, MeshproofError } from '../../helpers/errors.ts';
import { pollUntil } from '../../helpers/wait/poll.ts';
import { freePort } from './lab-stand-ins.ts';

/**
 * A real Prometheus (Debian's 2.42 binary) for the self-tests, scraping loopback targets.
 * Durations of the harness itself live here; scrape targets come up about 5.5 s after start
 * (target-discovery throttle, no flag shortens it), so a whole test file should share one instance.
 */
export const harnessTimeouts = {
  /** From process start until every target is up; about 6 s observed, doubled and more for slow CI. */
  startup: 30_000,
  startupPoll: 100,
  /** After SIGTERM, before SIGKILL. */
  stop: 5_000,
  stopPoll: 20,
  /** One HTTP probe of the readiness and targets endpoints. */
  probe: 2_000,
};

const installHint = 'install it with `sudo apt-get install prometheus` (Debian/Ubuntu; promtool comes with it)';

export type PrometheusAvailability = { available: true; binary: string } | { available: false; reason: string };

/**
 * Whether the self-tests can run a real Prometheus. Under CI=true a missing binary is an error (a skipped
 * self-test in CI would hide that the evidence code is untested); locally it is a loud skip.
 */
export function prometheusAvailability(
  env: NodeJS.ProcessEnv = process.env,
  candidates = ['/usr/bin', ...(env.PATH ?? '').split(delimiter).filter(Boolean)].map((d) => join(d, 'prometheus')),
): PrometheusAvailability {
  const binary = candidates.find(isExecutable);
  if (binary) return { available: true, binary };
  const reason = `no prometheus binary in /usr/bin or on PATH: ${installHint}`;
  if (env.CI === 'true') {
    const fix = 'In CI, add a step: sudo apt-get install -y --no-install-recommends prometheus';
    throw new MeshproofError(`the Prometheus self-tests cannot run: ${reason}`, fix);
  }
  console.warn(`\n⚠ SKIPPING the real-Prometheus self-tests: ${reason}\n`);
  return { available: false, reason };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Startup failed; by the time this is thrown the process is gone and its directory removed. */
export class PrometheusStartError extends MeshproofError {
  constructor(
    message: string,
    readonly pid: number,
    readonly dir: string,
    command: string,
  ) {
    super(message, `Run it by hand to see why: ${command}`);
  }
}

export interface StartPrometheusOptions {
  /** `127.0.0.1:<port>` loopback targets, scraped at /metrics. */
  scrapeTargets: string[];
  scrapeIntervalMs?: number;
  binary?: string;
  timeouts?: Partial<typeof harnessTimeouts>;
  /** Where the port to listen on comes from: freePort unless a test says otherwise. */
  port?: () => Promise<number>;
}

export interface PrometheusHarness {
  url: string;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts Prometheus on a free loopback port. freePort closes the port it found before Prometheus binds it, and on a
 * busy machine another process can take it in between: that one failure ("address already in use") is tried again
 * on another port, up to three times; any other is thrown as it is.
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusHarness> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startPrometheusOnce(options);
    } catch (error) {
      if (attempt === 3 || !(error instanceof PrometheusStartError) || !error.message.includes('address already in use')) throw error;
    }
  }
}

async function startPrometheusOnce(options: StartPrometheusOptions): Promise<PrometheusHarness> {
  const found = options.binary ? undefined : prometheusAvailability();
  const binary = options.binary ?? (found?.available ? found.binary : undefined);
  if (!binary) throw new MeshproofError('prometheus is not installed', installHint);
  const t = { ...harnessTimeouts, ...options.timeouts };
  const intervalMs = options.scrapeIntervalMs ?? 1_000;

  const dir = await mkdtemp(join(tmpdir(), 'meshproof-prometheus-'));
  const config = [
    `global: { scrape_interval: ${intervalMs}ms, evaluation_interval: ${intervalMs}ms }`,
    'scrape_configs:',
    '  - job_name: meshproof-selftest',
    `    scrape_timeout: ${Math.max(1, Math.floor(intervalMs / 2))}ms`,
    `    static_configs: [ { targets: ${JSON.stringify(options.scrapeTargets)} } ]`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config);

  const port = await (options.port ?? freePort)();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=1h',
    '--log.level=warn',
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  // A vitest worker that dies mid-run must not leave Prometheus behind; 'exit' handlers may only be sync.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new AbortController();
  child.once('exit', (code, signal) => {
    const why = `${signal ?? `code ${code}`}: ${stderr.trim() || 'no output'}`;
    exited.abort(new MeshproofError(`prometheus exited during startup (${why})`));
  });
  child.once('error', (error) => {
    exited.abort(new MeshproofError(`cannot start ${binary}: ${error.message}`, installHint));
  });

  const awaitExit = (what: string) =>
    pollUntil({ what: `prometheus (pid ${child.pid}) ${what}`, timeoutMs: t.stop, intervalMs: t.stopPoll }, async () =>
      child.exitCode !== null || child.signalCode !== null
        ? { done: true, value: undefined }
        : { done: false, seen: 'still running' },
    );
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        child.kill('SIGTERM');
        await awaitExit('to exit after SIGTERM').catch(() => {
          child.kill('SIGKILL');
          return awaitExit('to die after SIGKILL');
        });
      }
      process.removeListener('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    })());

  const get = async (path: string, signal: AbortSignal) => {
    const res = await request(`${url}${path}`, { signal: AbortSignal.any([signal, AbortSignal.timeout(t.probe)]) });
    return { status: res.statusCode, body: await res.body.text() };
  };
  try {
    const wait = { timeoutMs: t.startup, intervalMs: t.startupPoll, signal: exited.signal };
    await pollUntil({ ...wait, what: `prometheus at ${url} to be ready` }, async (signal) => {
      const { status, body } = await get('/-/ready', signal);
      return status === 200 ? { done: true, value: undefined } : { done: false, seen: `${status} ${body.trim()}` };
    });
    const wanted = options.scrapeTargets.length;
    const what = `every scrape target (${options.scrapeTargets.join(', ')}) to be up`;
    await pollUntil({ ...wait, what }, async (signal) => {
      type Target = { scrapeUrl: string; health: string; lastError: string };
      const { body } = await get('/api/v1/targets?state=active', signal);
      const targets = (JSON.parse(body) as { data: { activeTargets: Target[] } }).data.activeTargets;
      const up = targets.filter((target) => target.health === 'up').length;
      if (targets.length === wanted && up === wanted) return { done: true, value: undefined };
      const states = targets.map((x) => `${x.scrapeUrl} ${x.health}${x.lastError ? ` (${x.lastError})` : ''}`);
      return { done: false, seen: `${up} of ${wanted} up: ${states.join('; ') || 'no targets yet'}` };
    });
  } catch (error) {
    await stop();
    const message = `prometheus (pid ${child.pid}) at ${url} did not start: ${errorText(error)}`;
    throw new PrometheusStartError(message, child.pid ?? 0, dir, `${binary} ${args.join(' ')}`);
  }
  return { url, pid: child.pid!, dir, stop };
}
