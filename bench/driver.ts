/**
 * How fast the host-side driver sends, next to a purpose-built load generator on the same loopback server:
 * Debian's `hey` (/usr/bin/hey). Both send the same bounded number of GET /productpage at the same
 * concurrency over keep-alive connections to the Bookinfo double (no added latency), so the ratio says how
 * much of the machine's HTTP capacity the driver leaves on the table. bench/run.ts prints the lines.
 *
 * The double runs in a child process (this same file, started again with a flag): in the driver's own
 * process it would share one event loop with the driver, and the bench would mostly measure the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { defaultTimeouts } from '../helpers/config/timeouts.ts';
import { sendTraffic } from '../helpers/observe/traffic.ts';
import { startBookinfoDouble } from '../test/support/bookinfo-double.ts';

const heyPath = '/usr/bin/hey';
const serveFlag = 'MESHPROOF_BENCH_DOUBLE';
const thisFile = fileURLToPath(import.meta.url);

export interface BenchDriverOptions {
  /** Requests per measured run (hey needs at least `concurrency`). */
  requests?: number;
  concurrency?: number;
  /**
   * Paired rounds: each runs the driver and hey back to back (which goes first alternates), and the ratio is
   * taken within the round, so a slow spell on a shared machine slows both sides of a pair alike. The median
   * of the per-round ratios is reported with their range, not a best of a few.
   */
  rounds?: number;
}

/** Lines: the driver's requests/s, hey's, and last the ratio driver/hey. */
export async function benchDriver(options: BenchDriverOptions = {}): Promise<string[]> {
  const requests = options.requests ?? 5000;
  const concurrency = options.concurrency ?? 16;
  const rounds = options.rounds ?? 7;
  const double = await startDoubleProcess();
  const url = `${double.url}/productpage`;
  const what = `${requests} × GET /productpage at concurrency ${concurrency}, ${rounds} paired rounds`;
  try {
    const drive = async (count: number) => {
      const started = performance.now();
      const records = await sendTraffic({
        baseUrl: double.url,
        path: '/productpage',
        count,
        concurrency,
        deadlineMs: defaultTimeouts.trafficBatch,
        requestTimeoutMs: defaultTimeouts.request,
      });
      const failed = records.filter((r) => r.status !== 200).length;
      if (failed) throw new Error(`the driver got ${failed} of ${count} answers that were not 200 from the double`);
      return records.length / ((performance.now() - started) / 1000);
    };
    await drive(Math.min(requests, 1000)); // warm-up (JIT, first connections), not measured

    const heyAvailable = await access(heyPath).then(
      () => true,
      () => false,
    );
    const driverRates: number[] = [];
    const heyRates: number[] = [];
    for (let round = 0; round < rounds; round++) {
      if (heyAvailable && round % 2 === 1) heyRates.push(await runHey(url, requests, concurrency));
      driverRates.push(await drive(requests));
      if (heyAvailable && round % 2 === 0) heyRates.push(await runHey(url, requests, concurrency));
    }
    const lines = [`driver: ${what}: median ${median(driverRates).toFixed(0)} req/s (runs: ${list(driverRates)})`];
    if (!heyAvailable) {
      lines.push(`hey: ${heyPath} is not installed (apt-get install hey), so there is nothing to compare with`);
      lines.push('ratio driver/hey: n/a');
      return lines;
    }
    const ratios = driverRates.map((rate, i) => rate / (heyRates[i] ?? Number.NaN));
    lines.push(`hey: ${what}: median ${median(heyRates).toFixed(0)} req/s (runs: ${list(heyRates)})`);
    lines.push(
      `ratio driver/hey, per paired round: median ${median(ratios).toFixed(2)}, range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)} ` +
        `over ${ratios.length} rounds (${ratios.map((r) => r.toFixed(2)).join(', ')})`,
    );
    return lines;
  } finally {
    await double.stop();
  }
}

const list = (rates: number[]) => rates.map((rate) => rate.toFixed(0)).join(', ');

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function runHey(url: string, requests: number, concurrency: number): Promise<number> {
  const result = await execa(
    heyPath,
    ['-n', String(requests), '-c', String(concurrency), '-t', String(Math.ceil(defaultTimeouts.request / 1000)), url],
    { timeout: defaultTimeouts.trafficBatch },
  );
  const match = /Requests\/sec:\s+([\d.]+)/.exec(result.stdout);
  if (!match?.[1]) throw new Error(`hey printed no "Requests/sec:" line:\n${result.stdout.slice(0, 500)}`);
  return Number(match[1]);
}

/** Starts this file as a child that serves the double; resolves with its URL once it listens. */
async function startDoubleProcess(): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, thisFile], {
    env: { ...process.env, [serveFlag]: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<string>((resolveUrl, reject) => {
    lines.on('line', (line) => {
      const match = /^READY (\S+)$/.exec(line);
      if (match?.[1]) resolveUrl(match[1]);
    });
    void exited.then(([code]) => reject(new Error(`the bench's Bookinfo double exited early (code ${code})`)));
    child.once('error', reject);
  });
  const url = await Promise.race([
    ready,
    // Bounded like any other wait: a child that never listens fails the bench instead of hanging it.
    once(AbortSignal.timeout(defaultTimeouts.preflight), 'abort').then(() => {
      throw new Error(`the bench's Bookinfo double did not start within ${defaultTimeouts.preflight} ms`);
    }),
  ]).catch((error: unknown) => {
    child.kill();
    throw error;
  });
  return {
    url,
    async stop() {
      child.stdin!.end(); // the child stops its server and exits when its stdin closes
      await exited;
    },
  };
}

// The child: serve the double until stdin closes.
if (process.env[serveFlag] === '1' && process.argv[1] && resolve(process.argv[1]) === thisFile) {
  const double = await startBookinfoDouble({ seed: 1 });
  process.stdout.write(`READY ${double.url}\n`);
  process.stdin.resume();
  process.stdin.once('end', () => {
    void double.stop().then(() => process.exit(0));
  });
}
