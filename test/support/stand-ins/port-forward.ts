/**
 * `kubectl port-forward` for a dress rehearsal of the real command: the rehearsal's kubectl (a shell stand-in,
 * test/support/stand-ins/bundle.ts) hands its port-forwards to this Node script, which behaves as kubectl's does:
 * it asks the rehearsal's cluster server ($REHEARSAL_CLUSTER, test/support/rehearsal/cluster.ts) where the target
 * is, listens on a free loopback port, prints "Forwarding from 127.0.0.1:<port> -> <remote port>", relays every
 * connection there, and runs until it is stopped.
 */
import type { AddressInfo } from 'node:net';
import { relayTo } from './relay.ts';

const server = process.env.REHEARSAL_CLUSTER;

async function portForward(args: string[]): Promise<void> {
  const namespace = args[args.indexOf('-n') + 1]!;
  const target = args[args.indexOf('-n') + 2]!;
  const remotePort = (args.find((a) => /^:\d+$/.test(a)) ?? ':0').slice(1);
  const response = await fetch(`${server}/forward`, { method: 'POST', body: JSON.stringify({ namespace, target }) });
  const { url } = (await response.json()) as { url: string };
  const relay = relayTo(url);
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`Forwarding from 127.0.0.1:${(relay.address() as AddressInfo).port} -> ${remotePort}\n`);
  process.on('SIGTERM', () => relay.close(() => process.exit(0)));
}

if (!server) {
  process.stderr.write('stand-in kubectl port-forward: REHEARSAL_CLUSTER is not set\n');
  process.exit(2);
}
await portForward(process.argv.slice(2));
