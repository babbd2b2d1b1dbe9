import { listed, shortNumber, type ApiAnswer } from '../observe/addons/answer.ts';
import { endMatches, endName, parseKialiGraph, parseValidations, parseWorkloads, type GraphEdge } from '../observe/addons/kiali.ts';
import type { Expectation, KialiReading } from './expectation.ts';
import { clopperPearson, formatPercent } from './statistics.ts';
import type { Verdict } from './verdict.ts';

/**
 * Kiali as a second witness: what the lab tells a person to "observe in Kiali", judged from Kiali's own answer,
 * kept whole in the recording, so `meshproof judge` reads the same graph, validations or workloads list again.
 * Kiali builds its graph from Prometheus' istio_requests_total, as rates over the graph's window (kiali/kiali@v2.26.0
 * graph/telemetry/istio/istio.go), so a share of requests is a ratio of rates and a count is a rate times the
 * window; every rate it shows is rounded to 0.01/s (graph/protocol.go, Precision 2).
 *
 * One item per thing the verdict looked at (a version's share, an edge's mTLS, a workload's sidecar), with the
 * range it had to fall in: the sentence and the report's chart are both made from these.
 */
export interface KialiItem {
  label: string;
  /** What Kiali showed: a share (0–1), a percentage, a count. */
  value: number;
  /** The range that passes, inclusive. */
  low: number;
  high: number;
  ok: boolean;
  /** The words for the sentence. */
  text: string;
}

export interface KialiFindings {
  pass: boolean;
  /** What was read, in words (the whole sentence after the description). */
  said: string;
  items: KialiItem[];
  figures: Verdict['figures'];
  /** The axis the chart draws the items on. */
  axis: string;
}

type KialiExpectation = Extract<Expectation, { judge: 'kiali' }>;

export function judgeKiali(expectation: KialiExpectation, answers: readonly ApiAnswer[] = []): Verdict {
  const found = kialiFindings(expectation.reading, answers);
  return { pass: found.pass, judge: 'kiali', figures: found.figures, sentence: `${expectation.description}: ${found.said}` };
}

/** What Kiali's last kept answer shows, item by item (the verdict is made from the last answer asked). */
export function kialiFindings(reading: KialiReading, answers: readonly ApiAnswer[]): KialiFindings {
  const answer = answers.at(-1);
  const failed = (said: string): KialiFindings => ({ pass: false, said, items: [], figures: { of: reading.of }, axis: '' });
  if (!answer) return failed("the recording keeps no answer of Kiali's");
  switch (reading.of) {
    case 'edge-shares':
    case 'error-rate':
    case 'mtls': {
      const graph = parseKialiGraph(answer);
      if (!graph.ok) return failed(graph.classification);
      const window = graph.value.durationSeconds === undefined ? 'its window' : `the last ${graph.value.durationSeconds} s`;
      if (reading.of === 'edge-shares') return edgeShares(reading, graph.value.edges, window);
      if (reading.of === 'error-rate') return errorRate(reading, graph.value.edges, graph.value.durationSeconds);
      return mtls(reading, graph.value.edges, window);
    }
    case 'validations': {
      const summaries = parseValidations(answer);
      return summaries.ok ? validations(reading, summaries.value) : failed(summaries.classification);
    }
    case 'sidecars': {
      const workloads = parseWorkloads(answer);
      return workloads.ok ? sidecars(reading, workloads.value) : failed(workloads.classification);
    }
  }
}

const live = (edges: readonly GraphEdge[]) => edges.filter((e) => e.rate > 0);
const rateText = (perSecond: number) => `${shortNumber(perSecond)}/s`;

/**
 * The canary as Kiali draws it: each version's share of the from → to requests is the ratio of its edge's rate
 * to all of them (not Kiali's httpPercentReq, which divides by everything the caller sends, details included:
 * graph/config/common/common.go). It must lie in the exact (Clopper–Pearson) interval, at the given confidence,
 * of the share the responses showed: the interval the split verdict reports (helpers/judge/split.ts), at 1 − α
 * rather than 95 %. When Kiali counted the very requests the split counted, its share differs from theirs only
 * by the rates' rounding and Prometheus' extrapolation to the window's edges, far inside the interval; other
 * traffic in the window went through the same VirtualService, so it moves Kiali's share only as sampling does,
 * and the 1 − α interval leaves that room. A share outside says Kiali's telemetry tells another story than the
 * responses did (a mislabelled version, a sidecar reporting another workload's requests).
 */
function edgeShares(reading: Extract<KialiReading, { of: 'edge-shares' }>, edges: readonly GraphEdge[], window: string): KialiFindings {
  const { namespace, from, to, counts, confidence } = reading;
  const matching = live(edges).filter((e) => endMatches(e.from, from, namespace) && e.to.app === to && e.to.namespace === namespace && e.to.version);
  const rates = new Map<string, number>();
  for (const e of matching) {
    const name = endName(e.to);
    rates.set(name, (rates.get(name) ?? 0) + e.rate);
  }
  const total = [...rates.values()].reduce((a, b) => a + b, 0);
  const n = Object.values(counts).reduce((a, b) => a + b, 0);
  const figures: Verdict['figures'] = { of: 'edge-shares', totalRate: total, n, confidence };
  const axis = `share of ${from} → ${to} in Kiali (bands: the responses' ${+(confidence * 100).toFixed(4)} % intervals)`;
  if (total === 0) return { pass: false, said: `Kiali's graph has no traffic on ${from} → ${to} over ${window}`, items: [], figures, axis };
  const classes = [...new Set([...Object.keys(counts), ...rates.keys()])].sort();
  const items = classes.map((name): KialiItem => {
    const count = counts[name] ?? 0;
    const [low, high] = clopperPearson(count, n, confidence);
    const share = (rates.get(name) ?? 0) / total;
    const ok = share >= low && share <= high;
    Object.assign(figures, { [`${name}.share`]: share, [`${name}.low`]: low, [`${name}.high`]: high, [`${name}.count`]: count });
    return { label: name, value: share, low, high, ok, text: `${name} ${formatPercent(share)} (${formatPercent(low, false)}–${formatPercent(high)} around ${count} of ${n})` };
  });
  const off = items.filter((i) => !i.ok);
  const said =
    `Kiali's ${from} → ${to} edges over ${window} (${rateText(total)}): ${items.map((i) => i.text).join(', ')}; ` +
    (off.length === 0
      ? `every share within the responses' ${+(confidence * 100).toFixed(4)} % interval: Kiali agrees with them`
      : `${off.map((i) => i.label).join(', ')} outside the responses' ${+(confidence * 100).toFixed(4)} % interval: Kiali tells another split than the responses`);
  return { pass: off.length === 0, said, items, figures, axis };
}

/**
 * The fault's error share as Kiali draws it: every edge into `to` in the namespace, whoever called. A request
 * the fault aborted never reached a ratings pod, so Kiali draws it to the ratings *service* node and the served
 * ones to ratings-v1 (a request with no destination workload: graph/telemetry/istio/istio.go query 0); both are
 * calls to ratings and are added up.
 *
 * "Consistent with 10 %", from rates over a window. A rate is a counter's increase over the window divided by it,
 * so rate × window is about the number of requests the sidecars counted, each rate rounded to 0.01/s. Each request
 * is aborted with probability 10 % whatever the window holds, so with exact counts the aborts would be
 * Binomial(N, 0.1) and the exact test of the responses' verdict would apply (helpers/judge/rates.ts). But Kiali's
 * rates are not exact counts: the served calls are reported by ratings' sidecar and the aborted ones by the
 * caller's, two scrape targets, and Prometheus' rate() extrapolates each series from its own first and last sample
 * in the window to the window's edges. That scales each target's rate by its own factor, within one scrape
 * interval s of the window W, so the share Kiali shows is the share counted times a factor between 1/(1 + s/W)
 * and 1 + s/W. Consistent therefore means: the exact (Clopper–Pearson) 1 − α interval of the implied share
 * overlaps the expected rate widened by that factor. A healthy mesh fails only when sampling alone puts the
 * implied count outside its 1 − α interval, at most α; no abort at all (0 %) or all of them stays far outside.
 * A series counts only from its first scrape on, which would read a burst into a new series low: the step reads
 * a window of calls into series that already exist (helpers/suite/steps/kiali.ts observeKialiErrorRate).
 */
function errorRate(reading: Extract<KialiReading, { of: 'error-rate' }>, edges: readonly GraphEdge[], durationSeconds: number | undefined): KialiFindings {
  const { namespace, to, expectedRate, alpha, scrapeSeconds } = reading;
  const into = live(edges).filter((e) => e.to.app === to && e.to.namespace === namespace);
  const rate = into.reduce((sum, e) => sum + e.rate, 0);
  const errors = into.reduce((sum, e) => sum + e.errorRate, 0);
  const figures: Verdict['figures'] = { of: 'error-rate', rate, errorRate: errors, window: durationSeconds ?? null, expectedRate, alpha, scrapeSeconds };
  const axis = `share of calls to ${to} that failed, in Kiali (band: ${formatPercent(expectedRate)} within the rates' extrapolation)`;
  if (durationSeconds === undefined) return { pass: false, said: "Kiali's graph answer does not say its window (duration)", items: [], figures, axis };
  const n = Math.round(rate * durationSeconds);
  const x = Math.min(n, Math.round(errors * durationSeconds));
  const expected = formatPercent(expectedRate).replace('.0 %', ' %');
  if (n === 0) return { pass: false, said: `Kiali's graph has no calls to ${to} over the last ${durationSeconds} s`, items: [], figures, axis };
  const factor = 1 + scrapeSeconds / durationSeconds;
  const band: [number, number] = [expectedRate / factor, Math.min(1, expectedRate * factor)];
  const [low, high] = clopperPearson(x, n, 1 - alpha);
  const pass = high >= band[0] && low <= band[1];
  Object.assign(figures, { n, count: x, share: x / n, ciLow: low, ciHigh: high, bandLow: band[0], bandHigh: band[1] });
  const sources = listed([...new Set(into.map((e) => endName(e.from, namespace)))]);
  const confidence = `${+((1 - alpha) * 100).toFixed(4)} %`;
  const said =
    `Kiali's graph over the last ${durationSeconds} s: calls to ${to} (from ${sources}) at ${rateText(rate)}, ${rateText(errors)} of them failed: ` +
    `${formatPercent(x / n)} (≈ ${x} of ${n} requests; ${confidence} CI ${formatPercent(low, false)}–${formatPercent(high)}), ` +
    `expected ${expected}, ${formatPercent(band[0], false)}–${formatPercent(band[1])} for rates extrapolated over ${durationSeconds} s scraped every ${shortNumber(scrapeSeconds)} s; ` +
    (pass ? `the interval overlaps it: consistent with ${expected}` : `the interval misses it: Kiali's error rate differs`);
  return { pass, said, items: [{ label: `calls to ${to}`, value: x / n, low: band[0], high: band[1], ok: pass, text: said }], figures, axis };
}

/**
 * STRICT as Kiali draws it: every edge with traffic into the namespace carried mutual TLS only. isMTLS is the
 * share of the edge's requests the destination's sidecar reported connection_security_policy="mutual_tls"
 * (graph/telemetry/istio/appender/security_policy.go), printed "%.0f" and left out when none was
 * (graph/config/common/common.go), so a plaintext request that was served shows as an edge below 100. Like every
 * rate, it shows only in a series Prometheus had scraped before: the suite's plaintext control, served just
 * before STRICT, makes that series, so plaintext served under STRICT is counted.
 */
function mtls(reading: Extract<KialiReading, { of: 'mtls' }>, edges: readonly GraphEdge[], window: string): KialiFindings {
  const { namespace } = reading;
  const into = live(edges).filter((e) => e.to.namespace === namespace);
  const items = into.map((e): KialiItem => {
    const label = `${endName(e.from, namespace)} → ${endName(e.to, namespace)}`;
    return { label, value: e.mtlsPercent, low: 100, high: 100, ok: e.mtlsPercent >= 100, text: `${label} (${rateText(e.rate)}, ${e.mtlsPercent ? `isMTLS ${e.mtlsPercent} %` : 'no isMTLS: no mTLS seen'})` };
  });
  const off = items.filter((i) => !i.ok);
  const figures: Verdict['figures'] = { of: 'mtls', edges: items.length, plaintextEdges: off.length };
  const axis = 'isMTLS: % of the edge\'s requests over mutual TLS (100 expected)';
  if (items.length === 0) return { pass: false, said: `Kiali's graph has no traffic into ${namespace} over ${window}`, items, figures, axis };
  const said =
    off.length === 0
      ? `all ${items.length} edges with traffic into ${namespace} over ${window} carried mutual TLS only (isMTLS 100): ${listed(items.map((i) => i.label), 12)}`
      : `${off.length} of ${items.length} edges with traffic into ${namespace} over ${window} carried requests without mutual TLS: ${listed(off.map((i) => i.text), 12)}`;
  return { pass: off.length === 0, said, items, figures, axis };
}

/** Kiali's validations of the namespace's Istio objects: no error; warnings are said, and pass. */
function validations(reading: Extract<KialiReading, { of: 'validations' }>, summaries: readonly { errors: number; warnings: number; objectCount: number; namespace: string; cluster: string }[]): KialiFindings {
  const { namespace } = reading;
  const mine = summaries.filter((s) => s.namespace === namespace);
  const axis = `validations of ${namespace}'s Istio objects (0 errors expected)`;
  if (mine.length === 0) return { pass: false, said: `Kiali's validations name no namespace ${namespace} (they name ${listed(summaries.map((s) => s.namespace))})`, items: [], figures: { of: 'validations' }, axis };
  const errors = mine.reduce((sum, s) => sum + s.errors, 0);
  const warnings = mine.reduce((sum, s) => sum + s.warnings, 0);
  const objects = mine.reduce((sum, s) => sum + s.objectCount, 0);
  const clusters = listed(mine.map((s) => s.cluster));
  const items: KialiItem[] = [
    { label: 'errors', value: errors, low: 0, high: 0, ok: errors === 0, text: `${errors} errors` },
    { label: 'warnings (listed, not failed)', value: warnings, low: 0, high: Math.max(warnings, 1), ok: true, text: `${warnings} warnings` },
  ];
  const said =
    `Kiali validated ${objects} Istio objects in ${namespace} (cluster ${clusters}): ${errors} errors, ${warnings} warnings` +
    (warnings > 0 ? ' (warnings are listed, not failed: Kiali\'s summary counts them, /kiali/api/namespaces/' + namespace + '/istio?validate=true names them)' : '') +
    (errors > 0 ? `; Kiali finds ${errors === 1 ? 'an error' : 'errors'} in the configuration as applied` : '');
  return { pass: errors === 0, said, items, figures: { of: 'validations', errors, warnings, objects }, axis };
}

/**
 * Every listed workload has pods, each with an Envoy sidecar (istioSidecar; Kiali says true for a workload with no
 * pods, so podCount must be at least 1), and no other workload of the namespace runs without one.
 */
function sidecars(reading: Extract<KialiReading, { of: 'sidecars' }>, workloads: readonly { name: string; namespace: string; istioSidecar: boolean; podCount: number }[]): KialiFindings {
  const { namespace } = reading;
  const inNamespace = workloads.filter((w) => w.namespace === namespace);
  const names = [...new Set([...reading.workloads, ...inNamespace.map((w) => w.name)])];
  const items = names.map((name): KialiItem => {
    const w = inNamespace.find((x) => x.name === name);
    const ok = !!w && w.istioSidecar && w.podCount >= 1;
    const text = !w ? `${name}: not listed` : w.podCount < 1 ? `${name}: no pods` : `${name}: ${w.podCount} pod${w.podCount === 1 ? '' : 's'}, ${w.istioSidecar ? 'sidecar' : 'no sidecar'}`;
    return { label: name, value: ok ? 1 : 0, low: 1, high: 1, ok, text };
  });
  const off = items.filter((i) => !i.ok);
  const said =
    off.length === 0
      ? `Kiali lists ${items.length} workloads in ${namespace}, each with pods and an Envoy sidecar: ${listed(items.map((i) => i.text), 12)}`
      : `${listed(off.map((i) => i.text), 12)} (of ${items.length} workloads in ${namespace})`;
  return { pass: off.length === 0, said, items, figures: { of: 'sidecars', workloads: items.length, withoutSidecar: off.length }, axis: 'an Envoy sidecar on every pod (1 = yes)' };
}
