/**
 * Every duration meshproof waits for, in one place (as Gateway API's TimeoutConfig).
 * Suites and helpers never write a literal timeout: they read it from here, and users override any of
 * them with MESHPROOF_TIMEOUT_<NAME> (e.g. MESHPROOF_TIMEOUT_CONFIG_LIVE=90s) or `timeouts:` in the
 * config file. Values are milliseconds.
 */
export const defaultTimeouts = {
  /** A container engine or an API server must answer a preflight probe within this. */
  preflight: 10_000,
  /** Downloading one cluster tool (kind, helm, kubectl, istioctl) and its checksum, retries included. */
  toolDownload: 300_000,
  /** The first pause before retrying a failed download (a reset, HTTP 5xx or 429); it doubles after each try. */
  toolDownloadRetry: 500,
  /** `kind create cluster --wait`: the control plane becomes Ready. */
  clusterCreate: 300_000,
  /** One `helm upgrade --install` with --wait (istiod pulls images on a cold runner). */
  helmInstall: 600_000,
  /** A Deployment finishes its rollout (image pulls included). */
  rollout: 600_000,
  /** Every reviews version answers (the Java pods are Ready before Liberty serves). */
  warmup: 300_000,
  /** The ingress gateway serves /productpage from the host. */
  ingressReady: 180_000,
  /** Every proxy in the mesh is SYNCED with istiod (istioctl proxy-status). */
  proxySync: 120_000,
  /** One istioctl call: analyze, proxy-status, proxy-config. */
  istioctl: 60_000,
  /** Prometheus has scraped istio_requests_total; Grafana, Jaeger and Kiali APIs answer. */
  addonReady: 300_000,
  /** The configuration just applied is the one serving (consecutive successes included). */
  configLive: 60_000,
  /** Between two probes of a config-live gate. */
  configLivePoll: 500,
  /** A metric reaches the expected value after traffic was sent (scrape interval plus lag). */
  metricPropagation: 120_000,
  /** Between two Prometheus queries while awaiting a metric. */
  metricPoll: 2_000,
  /**
   * Two of Prometheus' scrapes (15 s apart in istio/istio@1.30.3 samples/addons/prometheus.yaml): how long calls
   * are sent for a window of Kiali's graph of their own (the abort's error rate), so every rate has two samples in it.
   */
  kialiWindow: 30_000,
  /** One HTTP request of the traffic driver; above the 7 s fault delay and productpage's 2 × 3 s. */
  request: 30_000,
  /** A whole batch of traffic for one verdict. */
  trafficBatch: 300_000,
  /** Applying or deleting one feature's configuration (API round trips, not propagation). */
  apply: 60_000,
  /** Deleting namespaces and Helm releases during cleanup. */
  cleanup: 300_000,
  /** A generic poll interval for the provisioning waits. */
  poll: 2_000,
  /** Between two requests while an ejected endpoint is awaited back (outlier detection). */
  ejectionPoll: 2_000,
  /** How long past its ejection time (and one interval) an ejected endpoint may take to serve again. */
  ejectionGrace: 30_000,
  /**
   * A request's trace is complete in Jaeger's query API: each sidecar exports its span only when its stream ends,
   * in batches (Envoy's OpenTelemetry tracer), and Jaeger stores what its collector received.
   */
  traceArrival: 60_000,
  /** Between two Jaeger queries while awaiting a trace. */
  tracePoll: 2_000,
  /** `allure generate`: the HTML report of a run, charts and attachments embedded. */
  reportGenerate: 120_000,
} as const;

export type TimeoutName = keyof typeof defaultTimeouts;
export type Timeouts = Record<TimeoutName, number>;

export const timeoutNames = Object.keys(defaultTimeouts) as TimeoutName[];

/** configLive → CONFIG_LIVE, the suffix of its environment variable. */
export function timeoutEnvSuffix(name: TimeoutName): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/**
 * A duration as people read it, the one format of every message, log line and verdict sentence: "12 ms", "1.5 s",
 * "7.04 s", "30 s", "3 min", "3 min 0.37 s". Up to two decimals of a second are kept, because verdicts compare
 * latencies with their bounds ("min 7.01 s … expected every request ≥ 7 s"); trailing zeros are dropped, so a
 * configured timeout reads as it was written ("90s" → "90 s"). From two minutes on, whole minutes lead and the
 * seconds stay exact: the lab's 3 min ejection is judged to the second.
 */
export function formatDuration(ms: number): string {
  const centiseconds = Math.round(ms / 10);
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  if (centiseconds < 12_000) return `${centiseconds / 100} s`;
  const minutes = Math.floor(centiseconds / 6_000);
  const rest = centiseconds % 6_000;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest / 100} s`;
}
