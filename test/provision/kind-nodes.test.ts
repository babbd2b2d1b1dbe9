import { describe, expect, it } from 'vitest';
import { parsePublishedPorts, publishes } from '../../helpers/provision/kind-nodes.ts';

describe("the engine's list of published ports ({{.Ports}})", () => {
  it('reads Docker and Podman forms: loopback, wildcard, IPv6, ranges; leaves exposed-only ports out', () => {
    expect(parsePublishedPorts('127.0.0.1:8080->30080/tcp, 127.0.0.1:41593->6443/tcp')).toEqual([
      { hostAddress: '127.0.0.1', hostPorts: [8080, 8080], containerPort: 30080, protocol: 'tcp' },
      { hostAddress: '127.0.0.1', hostPorts: [41593, 41593], containerPort: 6443, protocol: 'tcp' },
    ]);
    expect(parsePublishedPorts('0.0.0.0:3000->3000/tcp, [::]:3000->3000/tcp, 53/udp')).toEqual([
      { hostAddress: '0.0.0.0', hostPorts: [3000, 3000], containerPort: 3000, protocol: 'tcp' },
      { hostAddress: '::', hostPorts: [3000, 3000], containerPort: 3000, protocol: 'tcp' },
    ]);
    const range = { name: 'web', ports: parsePublishedPorts('0.0.0.0:8000-8090->8000-8090/tcp') };
    expect(publishes(range, 8080)).toBe(true);
    expect(publishes(range, 8091)).toBe(false);
    expect(parsePublishedPorts('')).toEqual([]);
  });
});
