import { stringify } from 'yaml';
import type { MeshproofConfig } from '../config/config.ts';
import { listSuites } from '../config/suites.ts';
import { describeObject } from '../config/manifests.ts';
import { applyArgs, helmInstallArgs, kindCreateArgs } from './provision.ts';
import { workloadNamespaces, type StackPhase } from './stack.ts';

const indent = (text: string, by = '      ') =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => `${by}${line}`)
    .join('\n');

/**
 * Everything a run would do, in order, as text: the kind config, each helm command with its values, every
 * manifest, the waits and the suites. Paths are relative to the project, so the plan reads the same anywhere.
 */
export function renderPlan(config: MeshproofConfig, plan: StackPhase[], options: { quietTrafficGenerator: boolean }): string {
  const out: string[] = [];
  const target =
    config.target === 'kind'
      ? `a kind cluster "${config.clusterName}" (Kubernetes ${config.kubernetes!.version})`
      : `the existing cluster of ${config.context ? `context "${config.context}"` : 'the current context'}`;
  out.push(`meshproof plan: Istio ${config.istio.version} on ${target}`);
  out.push(
    config.istioHub
      ? `Istio's and Bookinfo's images from ${config.istioHub} (MESHPROOF_ISTIO_HUB)`
      : `Istio's images from the charts' default hub (${config.istio.hub} for ${config.istio.version}); Bookinfo's from ${config.istio.bookinfo.imagePrefix}*:${config.istio.bookinfo.tag}`,
    '',
  );
  plan.forEach((phase, i) => {
    out.push(`${i + 1}. ${phase.name}`);
    const step = phase.step;
    if (step.kind === 'kind-cluster') {
      out.push(`   kind ${kindCreateArgs(step, config).join(' ')}   (skipped when the cluster exists with Kubernetes ${step.kubernetesVersion})`);
      out.push(`   config (${step.configFile}, name and node image filled in):`, indent(stringify(step.config)));
    } else if (step.kind === 'helm-release') {
      out.push(`   helm ${helmInstallArgs(step, config, (file) => file).join(' ')}`);
      out.push(`   (skipped when ${step.release} is deployed from ${step.chart}-${step.version} with exactly these values)`);
      out.push(`   values (${step.valuesFiles.join(' + ')}):`, indent(Object.keys(step.values).length ? stringify(step.values) : '{}'));
    } else if (step.kind === 'pinned-configmap') {
      out.push(`   kubectl ${applyArgs.join(' ')}   ConfigMap ${step.namespace}/${step.name}, each file fetched and checked against its sha256 (${step.file}):`);
      for (const entry of step.entries) out.push(`   - ${entry.key}: ${entry.title}`, `       ${entry.url}`, `       sha256 ${entry.sha256}`);
    } else {
      out.push(`   kubectl ${applyArgs.join(' ')}   (skipped when kubectl diff finds no difference)`);
      for (const { file, object } of step.objects) out.push(`   --- ${describeObject(object)}  (${file})`, indent(stringify(object)));
    }
    out.push('');
  });
  const waits = [
    ...(options.quietTrafficGenerator ? ['pause the traffic generator (CronJob traffic-gen/traffic-generator suspended, its Jobs deleted)'] : []),
    `every Deployment available in ${workloadNamespaces.join(', ')}`,
    'every proxy in the mesh SYNCED with istiod (istioctl proxy-status -o json)',
    'the ingress gateway serves /productpage',
    'every reviews version (v1, v2, v3) answers through the gateway',
    'Prometheus has scraped istio_requests_total; Grafana, Jaeger and Kiali answer',
  ];
  out.push('Then, waiting (each a bounded poll with its deadline from the timeouts):');
  waits.forEach((w) => out.push(`   - ${w}`));
  out.push('', 'Suites, one at a time:');
  for (const suite of listSuites(config)) out.push(`   - ${suite.file}${suite.skipReason ? `   (${suite.skipReason})` : ''}`);
  return `${out.join('\n')}\n`;
}
