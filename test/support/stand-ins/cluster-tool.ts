/**
 * `kubectl`, `helm` and `kind` for a dress rehearsal of the real command: the production runner spawns this
 * executable under those names (test/support/stand-ins/bundle.ts links it), and it passes each call to the
 * rehearsal's cluster server ($REHEARSAL_CLUSTER, test/support/rehearsal/cluster.ts), printing what the server
 * answers and exiting with its exit code. `kubectl port-forward` behaves as kubectl's does: it listens on a free
 * loopback port, prints "Forwarding from 127.0.0.1:<port> -> <remote port>", relays every connection to where the
 * server says the target is, and runs until it is stopped.
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { relayTo } from './relay.ts';

const tool = path.basename(process.argv[1] ?? '');
const server = process.env.REHEARSAL_CLUSTER;

/** The run's kubeconfig and context flags: the rehearsal has one cluster, so they are read and dropped. */
function withoutAccessFlags(args: string[]): string[] {
  const valued = new Set(['--context', '--kube-context', '--kubeconfig']);
  return args.filter((arg, i) => !valued.has(arg) && !valued.has(args[i - 1] ?? ''));
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function post<T>(route: string, body: unknown): Promise<T> {
  const response = await fetch(`${server}${route}`, { method: 'POST', body: JSON.stringify(body) });
  return (await response.json()) as T;
}

async function portForward(args: string[]): Promise<void> {
  const namespace = args[args.indexOf('-n') + 1]!;
  const target = args[args.indexOf('-n') + 2]!;
  const remotePort = (args.find((a) => /^:\d+$/.test(a)) ?? ':0').slice(1);
  const { url } = await post<{ url: string }>('/forward', { namespace, target });
  const relay = relayTo(url);
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`Forwarding from 127.0.0.1:${(relay.address() as AddressInfo).port} -> ${remotePort}\n`);
  process.on('SIGTERM', () => relay.close(() => process.exit(0)));
}

async function main(): Promise<void> {
  if (!server) {
    process.stderr.write(`stand-in ${tool}: REHEARSAL_CLUSTER is not set\n`);
    process.exit(2);
  }
  const args = withoutAccessFlags(process.argv.slice(2));
  if (tool === 'kubectl' && args[0] === 'port-forward') return portForward(args);
  const stdin = await readStdin();
  const result = await post<{ exitCode: number; stdout: string; stderr: string }>('/run', { tool, args, stdin });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.exitCode;
}

await main();
