import { awaitConfigLive } from '../../gate/config-live.ts';
import { sendFromPod } from '../../observe/mesh-client.ts';
import type { MetricObservation, MetricSelector } from '../../observe/prometheus.ts';
import { afterIncrease, baselineOf, checkOf, countedRecording, plannedRequests, recordingOf, requestExpectation, type Observed, type StepEnv } from '../step-env.ts';

/**
 * STRICT mutual TLS, with its controls: the same client, the same URL, is served in plaintext under the baseline
 * (PERMISSIVE) just before STRICT is applied and again after the baseline is back; under STRICT the server
 * sidecar refuses it after accepting the connection (only TLS filter chains remain: istio/istio@1.30.3
 * pilot/pkg/networking/core/filterchain_options.go; curl exit code 56, HTTP code 000 in the istio.io
 * authn-policy task), while requests between sidecars are served and counted as mutual_tls.
 */

function plaintextBatch(env: StepEnv, count: number, concurrency: number) {
  return sendFromPod(env.legacyClient, { url: env.meshUrls.productpage, count, concurrency, timeoutMs: env.config.timeouts.request });
}

/** The control before STRICT: plaintext from outside the mesh is served under the baseline. */
export async function observePlaintextServedBefore(env: StepEnv): Promise<Observed> {
  const check = checkOf('mtls-strict', 'plaintext-before', 'all-match');
  const records = await plaintextBatch(env, plannedRequests(check.requests, env.config.alpha), check.concurrency);
  return { recordings: [recordingOf(env, 'mtls-strict', check.id, check.title, requestExpectation(check, env.config.alpha), records, [])] };
}

/**
 * The control after the baseline is restored: once one plaintext request is served again (bounded; the
 * removal takes a moment to reach the sidecar), the whole batch must be.
 */
export async function observePlaintextServedAfter(env: StepEnv): Promise<Observed> {
  const { timeouts, alpha } = env.config;
  const check = checkOf('mtls-strict', 'plaintext-after', 'all-match');
  await awaitConfigLive({ what: 'the baseline (PERMISSIVE) to serve plaintext again', timeoutMs: timeouts.configLive, intervalMs: timeouts.configLivePoll }, async () => {
    const [record] = await plaintextBatch(env, 1, 1);
    return record?.status === 200 ? { done: true, value: undefined } : { done: false, seen: `plaintext answered ${record?.status ?? 'nothing'}${record?.error ? ` (${record.error})` : ''}` };
  }).catch(() => undefined); // the batch below shows what the client got, as the verdict
  const records = await plaintextBatch(env, plannedRequests(check.requests, alpha), check.concurrency);
  return { recordings: [recordingOf(env, 'mtls-strict', check.id, check.title, requestExpectation(check, alpha), records, [])] };
}

/** Under STRICT: plaintext refused by the sidecar, mesh traffic served and counted as mutual_tls. */
export async function observeStrictMtls(env: StepEnv): Promise<Observed> {
  const { alpha } = env.config;
  const refused = checkOf('mtls-strict', 'plaintext-refused', 'all-match');
  const served = checkOf('mtls-strict', 'mesh-served', 'all-match');
  const counted = checkOf('mtls-strict', 'mesh-counted', 'metric-increase');
  const overMtls: MetricSelector = {
    metric: 'istio_requests_total',
    labels: { reporter: 'destination', destination_workload: 'productpage-v1', source_workload: 'mesh-client', connection_security_policy: 'mutual_tls' },
  };
  const before = await baselineOf(env, overMtls);
  const plaintext = await plaintextBatch(env, plannedRequests(refused.requests, alpha), refused.concurrency);
  const mesh = await sendFromPod(env.meshClient, { url: env.meshUrls.productpage, count: plannedRequests(served.requests, alpha), concurrency: served.concurrency, timeoutMs: env.config.timeouts.request });
  const ok = mesh.filter((r) => r.status === 200).length;
  const metrics: MetricObservation[] = [{ name: counted.metric, before, after: await afterIncrease(env, overMtls, before, ok) }];
  return {
    recordings: [
      recordingOf(env, 'mtls-strict', refused.id, refused.title, requestExpectation(refused, alpha), plaintext, []),
      recordingOf(env, 'mtls-strict', served.id, served.title, requestExpectation(served, alpha), mesh, metrics),
      countedRecording(env, 'mtls-strict', counted, metrics, ok, `productpage's sidecar reported the ${ok} requests as mutual_tls`),
    ],
  };
}
