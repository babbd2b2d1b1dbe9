import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import type { ClusterToolName } from '../../helpers/provision/cluster-tools.ts';
import { mergeHelmValues } from '../../helpers/provision/stack.ts';
import type { ClusterRunner, CommandResult, PortForward, RunOptions } from '../../helpers/provision/runner.ts';
import { labProxies, proxyStatusJson } from './istioctl-outputs.ts';

export interface RecordedCall {
  tool: ClusterToolName;
  args: string[];
  input?: string;
}

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

/**
 * A stand-in for kind, helm, kubectl and istioctl (proxy-status) behind the ClusterRunner seam: it keeps just enough state (clusters,
 * Helm releases with their values, applied objects) to answer the way the real tools do, and records every
 * call so a test can check order, flags and what was skipped. No cluster, no network.
 */
export class FakeCluster implements ClusterRunner {
  readonly calls: RecordedCall[] = [];
  clusters: string[] = [];
  serverVersion = '1.36.4';
  readonly releases = new Map<string, { chart: string; values: unknown; deployments: string[]; status?: string }>();
  readonly objects = new Map<string, KubeObject>();
  /** Local URLs that port-forwards lead to, by "<namespace>/<target>". */
  readonly forwards = new Map<string, string>();
  /** Set to make one command fail: the first call whose joined args contain the key gets this result. */
  readonly failures = new Map<string, CommandResult>();
  cronJobSuspended: boolean | undefined;
  /** What `istioctl proxy-status -o json` prints: the lab's proxies, all SYNCED, unless a test says otherwise. */
  proxyStatus = proxyStatusJson(labProxies);

  /** Which Deployments a chart brings, as the real charts name them. */
  constructor(private readonly chartDeployments: Record<string, string[]> = {}) {}

  /** The calls that change the cluster (create, install, apply, patch, delete), as "tool verb …" lines. */
  mutations(): string[] {
    return this.calls
      .filter(({ tool, args }) => tool !== 'kubectl' || ['apply', 'patch', 'delete'].includes(args[0]!))
      .filter(({ tool, args }) => tool !== 'helm' || ['upgrade', 'uninstall'].includes(args[0]!))
      .filter(({ tool, args }) => tool !== 'kind' || args[0] !== 'get')
      .map(({ tool, args }) => `${tool} ${args.slice(0, 4).join(' ')}`);
  }

  async run(tool: ClusterToolName, args: string[], options: RunOptions): Promise<CommandResult> {
    this.calls.push({ tool, args, ...(options.input !== undefined ? { input: options.input } : {}) });
    for (const [key, result] of this.failures) {
      if (`${tool} ${args.join(' ')}`.includes(key)) {
        this.failures.delete(key);
        return result;
      }
    }
    const ok = (stdout = ''): CommandResult => ({ exitCode: 0, stdout, stderr: '' });
    const [verb] = args;
    if (tool === 'kind') {
      if (verb === 'get') return this.clusters.length ? ok(`${this.clusters.join('\n')}\n`) : { exitCode: 0, stdout: '', stderr: 'No kind clusters found.\n' };
      if (verb === 'create') {
        this.clusters.push(args[args.indexOf('--name') + 1]!);
        const config = parse(options.input ?? '') as { nodes: { image: string }[] };
        this.serverVersion = /:v([\d.]+)@/.exec(config.nodes[0]!.image)![1]!;
        return ok();
      }
      if (verb === 'delete') {
        this.clusters = this.clusters.filter((c) => c !== args[args.indexOf('--name') + 1]);
        return ok();
      }
    }
    if (tool === 'helm') return this.helm(args);
    if (tool === 'kubectl') return this.kubectl(args, options.input ?? '');
    if (tool === 'istioctl' && verb === 'proxy-status') return ok(this.proxyStatus);
    return { exitCode: 1, stdout: '', stderr: `fake: unexpected ${tool} ${args.join(' ')}` };
  }

  private helm(args: string[]): CommandResult {
    const flag = args.includes('--namespace') ? '--namespace' : '-n';
    const ns = args[args.indexOf(flag) + 1];
    const ok = (stdout = ''): CommandResult => ({ exitCode: 0, stdout, stderr: '' });
    if (args[0] === 'list') {
      const name = args[args.indexOf('--filter') + 1]!.replace(/^\^|\$$/g, '');
      const release = this.releases.get(`${ns}/${name}`);
      const status = release?.status ?? 'deployed';
      // helm list shows only deployed and failed releases unless --all (or --pending) is given (pkg/action/list.go).
      const shown = release && (['deployed', 'failed'].includes(status) || args.includes('--all'));
      return ok(JSON.stringify(shown ? [{ name, status, chart: release.chart }] : []));
    }
    if (args[0] === 'get' && args[1] === 'values') {
      const release = this.releases.get(`${ns}/${args[2]}`);
      return ok(JSON.stringify(release?.values ?? null));
    }
    if (args[0] === 'upgrade') {
      const [, , name, chart] = args;
      if (this.releases.get(`${ns}/${name}`)?.status?.startsWith('pending-')) {
        return { exitCode: 1, stdout: '', stderr: 'Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress' };
      }
      const version = args[args.indexOf('--version') + 1];
      const files = args.flatMap((arg, i) => (args[i - 1] === '--values' ? [arg] : []));
      const values = files.map((f) => ((parse(readFileSync(f, 'utf8')) as Record<string, unknown> | null) ?? {})).reduce(mergeHelmValues, {});
      // helm get values returns only what the user supplied; an empty file reads back as null.
      this.releases.set(`${ns}/${name}`, { chart: `${chart}-${version}`, values: isDeepStrictEqual(values, {}) ? null : values, deployments: this.chartDeployments[name!] ?? [] });
      return ok();
    }
    if (args[0] === 'uninstall') {
      const existed = this.releases.delete(`${ns}/${args[1]}`);
      return existed ? ok() : { exitCode: 1, stdout: '', stderr: `Error: uninstall: Release not loaded: ${args[1]}: release: not found` };
    }
    return { exitCode: 1, stdout: '', stderr: `fake: unexpected helm ${args.join(' ')}` };
  }

  private kubectl(args: string[], input: string): CommandResult {
    const ok = (stdout = ''): CommandResult => ({ exitCode: 0, stdout, stderr: '' });
    const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const docs = () => parseAllDocuments(input).map((d) => d.toJS() as KubeObject).filter(Boolean);
    switch (args[0]) {
      case 'version':
        return ok(JSON.stringify({ clientVersion: { gitVersion: 'v1.35.8' }, serverVersion: { gitVersion: `v${this.serverVersion}` } }));
      case 'diff':
        return docs().every((o) => isDeepStrictEqual(this.objects.get(key(o)), o)) ? ok() : { exitCode: 1, stdout: 'diff -u …', stderr: '' };
      case 'apply':
        for (const o of docs()) this.objects.set(key(o), o);
        return ok();
      case 'get': {
        if (args[1] === 'deployments') {
          const ns = args[args.indexOf('-n') + 1];
          const fromObjects = [...this.objects.values()].filter((o) => o.kind === 'Deployment' && o.metadata.namespace === ns).map((o) => o.metadata.name);
          const fromCharts = [...this.releases.entries()].filter(([k]) => k.startsWith(`${ns}/`)).flatMap(([, r]) => r.deployments);
          const items = [...fromObjects, ...fromCharts].map((name) => ({ metadata: { name }, spec: { replicas: 1 }, status: { availableReplicas: 1, updatedReplicas: 1 } }));
          return ok(JSON.stringify({ items }));
        }
        if (args[1] === 'pods') return ok('');
        if (args[1] === 'crd') return ok('customresourcedefinition.apiextensions.k8s.io/virtualservices.networking.istio.io\ncustomresourcedefinition.apiextensions.k8s.io/certificates.cert-manager.io\n');
        break;
      }
      case 'patch':
        this.cronJobSuspended = (JSON.parse(args[args.indexOf('-p') + 1]!) as { spec: { suspend: boolean } }).spec.suspend;
        return ok();
      case 'delete':
        return ok();
    }
    return { exitCode: 1, stdout: '', stderr: `fake: unexpected kubectl ${args.join(' ')}` };
  }

  async portForward(namespace: string, target: string, remotePort: number): Promise<PortForward> {
    this.calls.push({ tool: 'kubectl', args: ['port-forward', '-n', namespace, target, `:${remotePort}`] });
    const url = this.forwards.get(`${namespace}/${target}`);
    if (!url) throw new Error(`fake: no port-forward target for ${namespace}/${target}`);
    return { url, close: async () => {} };
  }
}
