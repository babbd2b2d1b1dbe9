import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { execa } from 'execa';
import type { KubeObject } from '../../../helpers/config/manifests.ts';
import type { PodExec } from '../../../helpers/observe/mesh-client.ts';
import { mulberry32 } from '../bookinfo-double.ts';
import type { IstioExporter } from '../istio-exporter.ts';
import { appOf, type Call } from './apps.ts';
import { configDump } from './config-dump.ts';
import { IstioConfig, routeMatches } from './istio-config.ts';
import { InboundRateLimiter } from './local-rate-limit.ts';
import { OutboundSidecar, type MeshNetwork, type SidecarFaults, type SimRequest, type SimResponse } from './sidecar.ts';
import { requestLabels } from './telemetry.ts';
import { SpanCollector } from './tracing.ts';
import { fqdn, services, workload, workloads, type Workload } from './workloads.ts';

/**
 * A simulated Istio mesh on loopback for the self-tests: the lab's workloads (Bookinfo, httpbin, the two test
 * clients, the ingress gateway), each sidecar obeying the Istio objects applied to it, and the standard
 * `istio_requests_total` series reported to an exporter a real Prometheus scrapes. It runs the very
 * requests the suites send: the host-side driver talks to the gateway's port, and the in-mesh curl batches
 * run this machine's curl with `--connect-to`, so the mesh client's requests enter its sidecar the way
 * iptables captures them in a pod, and the legacy client's plaintext reaches the destination's inbound port
 * directly. Config pushes can be held per proxy (a proxy that lags), and the mesh can be broken on purpose
 * in one way per feature, so that every verdict's failure is shown too.
 */

/** One way to get a feature wrong. */
export type Breakage =
  | { kind: 'wrong-weights'; weights: Record<string, number> }
  | { kind: 'end-user-match-ignored' }
  | { kind: 'no-delay' }
  /** Sampled aborts (below 100 %, the lab's 10 %) never fire; a 100 % abort, such as the live probe's, still does. */
  | { kind: 'no-abort' }
  | { kind: 'no-connection-pool' }
  | { kind: 'refuse-everything' }
  | { kind: 'no-outlier-detection' }
  | { kind: 'ejection-never-ends' }
  | { kind: 'no-retries' }
  | { kind: 'no-timeout' }
  | { kind: 'no-mirror' }
  | { kind: 'plaintext-accepted' }
  | { kind: 'rate-limit-ignored' }
  | { kind: 'bucket-never-refills' }
  /** productpage waits for reviews however long it takes: its 3 s timeout (and so its second try) never comes. */
  | { kind: 'productpage-waits' }
  | { kind: 'silent-telemetry'; workload: string }
  /** A pod whose version label says another version: its requests are reported, and graphed, as that version's. */
  | { kind: 'mislabelled'; workload: string; version: string }
  /** A pod started without its sidecar, as the cluster (and Kiali's workloads list) shows it; traffic is not changed. */
  | { kind: 'no-sidecar'; workload: string }
  | { kind: 'legacy-client'; fails: 'dns' | 'refused' | 'timeout' };

export interface SimMeshOptions {
  exporter: IstioExporter;
  /** Where the proxies report their spans (a collector of its own when no Jaeger double reads them). */
  spans?: SpanCollector;
  seed?: number;
  /** The baseline configuration istiod holds from the start (the lab's gateway and DestinationRules). */
  baseline?: KubeObject[];
}

export interface SimMesh {
  /** The ingress gateway as the host reaches it (the kind host port in a real lab). */
  ingressUrl: string;
  meshClient: PodExec;
  legacyClient: PodExec;
  /** kubectl apply / delete, as istiod sees them: every proxy not held gets the new configuration. */
  apply(objects: KubeObject[]): void;
  delete(objects: KubeObject[]): void;
  /** The objects istiod holds now. */
  objects(kind?: string): KubeObject[];
  /** The workloads as the cluster runs them: a pod started without its sidecar has proxy "none". */
  deployed(): Workload[];
  /** A proxy that stops receiving configuration (held) or receives it again (and catches up at once). */
  holdConfig(workloadName: string, held: boolean): void;
  /** `pilot-agent request GET config_dump?…` in that workload's istio-proxy container. */
  configDump(workloadName: string, path: string): string;
  break(breakage: Breakage): void;
  heal(): void;
  /** Requests each workload's app answered (attempts included), and connections reset under STRICT. */
  stats(): { answered: Record<string, number>; resets: number };
  stop(): Promise<void>;
}

const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'content-length', 'expect']);

function incoming(req: IncomingMessage, body: string): SimRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || hopByHop.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { method: req.method ?? 'GET', host: req.headers.host ?? '', path: req.url ?? '/', headers, ...(body && { body }) };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function write(res: ServerResponse, answer: SimResponse): void {
  if (res.destroyed) return;
  const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) };
  delete (headers as Record<string, string>)['transfer-encoding'];
  res.writeHead(answer.status, headers).end(answer.body);
}

async function listen(server: Server | ReturnType<typeof createNetServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function startSimMesh(options: SimMeshOptions): Promise<SimMesh> {
  const random = mulberry32(options.seed ?? 1);
  const spans = options.spans ?? new SpanCollector();
  const istiod = new IstioConfig(options.baseline ?? []);
  const held = new Set<string>();
  let breakages: Breakage[] = [];
  const token = randomUUID();
  const answered: Record<string, number> = {};
  let resets = 0;
  const servers: (Server | ReturnType<typeof createNetServer>)[] = [];
  const sockets = new Set<Socket>();
  const inboundPorts = new Map<string, number>();

  const faults = (): SidecarFaults => {
    const f: SidecarFaults = {};
    for (const b of breakages) {
      if (b.kind === 'wrong-weights') f.weights = b.weights;
      if (b.kind === 'end-user-match-ignored') f.ignoredHeaders = ['end-user'];
      if (b.kind === 'no-delay') f.noDelay = true;
      if (b.kind === 'no-abort') f.noAbort = true;
      if (b.kind === 'no-connection-pool') f.noConnectionPool = true;
      if (b.kind === 'refuse-everything') f.refuseEverything = true;
      if (b.kind === 'no-outlier-detection') f.noOutlierDetection = true;
      if (b.kind === 'ejection-never-ends') f.ejectionNeverEnds = true;
      if (b.kind === 'no-retries') f.noRetries = true;
      if (b.kind === 'no-timeout') f.noTimeout = true;
      if (b.kind === 'no-mirror') f.noMirror = true;
    }
    return f;
  };
  const broken = <K extends Breakage['kind']>(kind: K) => breakages.find((b): b is Extract<Breakage, { kind: K }> => b.kind === kind);

  const net: MeshNetwork = {
    inboundPort: (name) => inboundPorts.get(name)!,
    peerToken: (source) => `${source.name}:${token}`,
    exporter: options.exporter,
    spans,
    random,
    faults,
    silent: (name) => breakages.some((b) => b.kind === 'silent-telemetry' && b.workload === name),
    labelled: (w) => {
      const wrong = breakages.find((b): b is Extract<Breakage, { kind: 'mislabelled' }> => b.kind === 'mislabelled' && b.workload === w.name);
      return wrong ? { ...w, version: wrong.version } : w;
    },
  };

  const proxies = new Map<string, OutboundSidecar>();
  for (const w of workloads.filter((x) => x.proxy !== 'none')) proxies.set(w.name, new OutboundSidecar(w, istiod.copy(), net));
  const push = () => {
    for (const [name, proxy] of proxies) if (!held.has(name)) proxy.push(istiod.copy());
  };

  /** Who is calling, from the peer header only a sidecar can send (the stand-in for the mTLS handshake). */
  const peerOf = (req: IncomingMessage): Workload | undefined => {
    const [name, secret] = String(req.headers['x-meshsim-peer'] ?? '').split(':');
    return secret === token && name ? workload(name) : undefined;
  };

  // Every workload with an app: its inbound port, where its sidecar enforces PeerAuthentication and reports
  // reporter="destination", then hands the request to the app.
  for (const w of workloads) {
    const app = appOf(w);
    if (!app) continue;
    // The app's own timeout on a call: when it fires the app gives up, and its sidecar sees the connection close.
    const call: Call = async (req, timeoutMs) => {
      if (w.app === 'productpage' && broken('productpage-waits')) return proxies.get(w.name)!.send(req);
      const gaveUp = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => {
          gaveUp.abort();
          resolve(undefined);
        }, timeoutMs);
      });
      try {
        return await Promise.race([proxies.get(w.name)!.send(req, undefined, gaveUp.signal), timeout]);
      } finally {
        clearTimeout(timer);
      }
    };
    const rateLimiter = new InboundRateLimiter(w, random);
    const service = services.find((s) => s.endpoints.includes(w.name))!;
    const server = createServer(async (req, res) => {
      const peer = peerOf(req);
      const proxy = proxies.get(w.name)!;
      const strict = proxy.view.mtlsMode(w.namespace) === 'STRICT' && !broken('plaintext-accepted');
      if (!peer && strict) {
        // STRICT accepts only TLS: plaintext finds no filter chain and the connection is closed
        // (pilot filterchain_options.go inboundStrictHTTPFilterChainMatchOptions; curl exit code 56).
        resets += 1;
        req.socket.resetAndDestroy();
        return;
      }
      const body = await readBody(req);
      const request = incoming(req, body);
      delete request.headers['x-meshsim-peer'];
      const received = performance.now();
      // The server span (inbound routes are named <host>:<port>/* too: pilot httproute.go), its id passed to the app.
      const span = spans.start(w, 'server', request.headers.traceparent, `${fqdn(service)}:${service.port}/*`, `inbound|${service.port}||`);
      request.headers.traceparent = span.traceparent;
      res.on('close', () => span.end(0, ['DC']));
      const report = (status: number, flags: string[]) => {
        span.end(status, flags);
        if (net.silent(w.name)) return;
        const source = peer ? net.labelled(peer) : unknownSource;
        const labels = requestLabels({ reporter: 'destination', source, service, destination: net.labelled(w), responseCode: status, flags, mutualTls: peer !== undefined });
        options.exporter.add(labels, 1);
        // The server side's request duration, as the destination sidecar reports it beside the count (the lab's P99 query reads it).
        options.exporter.observe(labels, performance.now() - received);
      };
      // A local rate limit filter runs in this sidecar before the app sees the request; its refusal is the
      // sidecar's own reply, reported by the stats filter like any other (flag RL).
      const refusal = rateLimiter.refusal(proxy.view, { ignored: !!broken('rate-limit-ignored'), neverRefills: !!broken('bucket-never-refills') });
      if (refusal) {
        write(res, refusal);
        report(refusal.status, ['RL']);
        return;
      }
      answered[w.name] = (answered[w.name] ?? 0) + 1;
      const answer = await app(request, call);
      write(res, answer);
      report(answer.status, []);
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    inboundPorts.set(w.name, await listen(server));
    servers.push(server);
  }

  // The ingress gateway: the host's requests, routed by the VirtualServices bound to bookinfo-gateway.
  const gateway = proxies.get('istio-ingressgateway')!;
  const ingress = createServer(async (req, res) => {
    const request = incoming(req, await readBody(req));
    const bound = gateway.view.gatewayRoutes('bookinfo-gateway');
    const match = bound.flatMap((vs) => (vs.spec.http ?? []).map((route) => ({ vs, route }))).find(({ route }) => routeMatches(route, request));
    if (!match) return write(res, { status: 404, headers: {}, body: '' });
    const destination = match.route.route?.[0]?.destination;
    const service = services.find((s) => s.name === destination?.host && s.namespace === match.vs.metadata.namespace);
    if (!service) return write(res, { status: 503, headers: {}, body: 'no healthy upstream' });
    write(res, await gateway.send({ ...request, host: `${service.name}:${service.port}` }, { route: match.route, service }));
  });
  const ingressPort = await listen(ingress);
  servers.push(ingress);

  // The mesh client's sidecar, as the outbound listener its pod's iptables redirect to.
  const meshClientSidecar = proxies.get('mesh-client')!;
  const outbound = createServer(async (req, res) => write(res, await meshClientSidecar.send(incoming(req, await readBody(req)))));
  const outboundPort = await listen(outbound);
  servers.push(outbound);

  // For a legacy client whose connections go nowhere: a server that accepts and never answers.
  const blackhole = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  const blackholePort = await listen(blackhole);
  servers.push(blackhole);

  /** The names a pod in `namespace` can resolve for each Service, with its port. */
  const namesFrom = (namespace: string) =>
    services.flatMap((s) => {
      const names = [fqdn(s), `${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, ...(s.namespace === namespace ? [s.name] : [])];
      return names.map((name) => ({ name, port: s.port, service: s }));
    });

  const localCurl = async (argv: string[], extra: string[]) => {
    const run = await execa(argv[0]!, [...argv.slice(1), ...extra], { reject: false });
    return { stdout: run.stdout, stderr: run.stderr, exitCode: run.exitCode ?? 1 };
  };

  return {
    ingressUrl: `http://127.0.0.1:${ingressPort}`,
    meshClient: (argv) => localCurl(argv, namesFrom('meshproof').flatMap(({ name, port }) => ['--connect-to', `${name}:${port}:127.0.0.1:${outboundPort}`])),
    legacyClient: (argv) => {
      const fails = broken('legacy-client')?.fails;
      // dns: a name under .invalid (RFC 6761), which no resolver answers, so curl exits 6 at once.
      const target = (endpoint: string) =>
        fails === 'dns' ? 'meshproof-dns-failure.invalid:9' : `127.0.0.1:${fails === 'refused' ? 9 : fails === 'timeout' ? blackholePort : inboundPorts.get(endpoint)!}`;
      return localCurl(
        argv,
        namesFrom('meshproof-legacy').flatMap(({ name, port, service }) => ['--connect-to', `${name}:${port}:${target(service.endpoints[0]!)}`]),
      );
    },
    apply(objects) {
      istiod.apply(objects);
      push();
    },
    delete(objects) {
      istiod.delete(objects);
      push();
    },
    objects: (kind) => istiod.all(kind),
    deployed: () => workloads.map((w) => (breakages.some((b) => b.kind === 'no-sidecar' && b.workload === w.name) ? { ...w, proxy: 'none' } : w)),
    holdConfig(name, hold) {
      if (hold) held.add(name);
      else {
        held.delete(name);
        proxies.get(name)?.push(istiod.copy());
      }
    },
    configDump: (name, path) => {
      const proxy = proxies.get(name);
      if (!proxy) throw new Error(`mesh-sim: ${name} has no istio-proxy`);
      return configDump(proxy.view, path);
    },
    break(breakage) {
      breakages.push(breakage);
    },
    heal() {
      breakages = [];
    },
    stats: () => ({ answered: { ...answered }, resets }),
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              if ('closeAllConnections' in server) server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}

/** A plaintext caller's labels: no peer metadata reaches the destination's sidecar. */
const unknownSource: Workload = { name: 'unknown', namespace: 'unknown', app: 'unknown', version: 'unknown', serviceAccount: 'unknown', proxy: 'none' };
