import { createConnection, createServer, type Server } from 'node:net';

/**
 * A TCP server (not yet listening) that relays every connection to `url`'s host and port: what a port-forward or
 * a port Docker publishes does for the rehearsal's stand-ins.
 */
export function relayTo(url: string): Server {
  const to = new URL(url);
  return createServer((socket) => {
    const upstream = createConnection({ host: to.hostname, port: Number(to.port) });
    socket.pipe(upstream).pipe(socket);
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', end);
    upstream.on('error', end);
  });
}
