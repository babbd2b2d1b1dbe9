import { MeshproofError } from '../errors.ts';
import type { Labels } from './prom-diff.ts';

/**
 * Prometheus counters as data: the selectors the suites query, snapshots of their series, and the increase
 * between two snapshots (counter resets handled). Pure, without a client, so a verdict can be judged from a
 * recording offline; helpers/observe/prometheus.ts asks Prometheus for them.
 */

// ---------------------------------------------------------------------------------------------------------
// Query building

/** Exact label matches on one metric (and regular-expression ones), optionally summed by some labels. */
export interface MetricSelector {
  metric: string;
  labels?: Labels;
  /** Labels matched with =~ (RE2, anchored by Prometheus), e.g. response_flags "DI(,.*)?" for "DI" and "DI,FI". */
  labelsMatching?: Labels;
  by?: string[];
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** `metric{a="x",b="y"}`: the raw series, no aggregation. */
export function seriesSelector({ metric, labels = {}, labelsMatching = {} }: MetricSelector): string {
  if (!metricName.test(metric)) throw new MeshproofError(`invalid Prometheus metric name ${JSON.stringify(metric)}`);
  const matchers = [
    ...Object.entries(labels).map(([name, v]) => `${checkLabel(name)}="${escapeValue(v)}"`),
    ...Object.entries(labelsMatching).map(([name, v]) => `${checkLabel(name)}=~"${escapeValue(v)}"`),
  ];
  return matchers.length ? `${metric}{${matchers.join(',')}}` : metric;
}

/** `sum by (x, y) (metric{…})`, or `sum(metric{…})` without `by`. */
export function toPromQL(selector: MetricSelector): string {
  const by = selector.by ?? [];
  return by.length
    ? `sum by (${by.map(checkLabel).join(', ')}) (${seriesSelector(selector)})`
    : `sum(${seriesSelector(selector)})`;
}

/** PromQL double-quoted strings take Go escapes; a backslash, quote or newline in a value must be escaped. */
function escapeValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function checkLabel(name: string): string {
  if (!labelName.test(name)) throw new MeshproofError(`invalid Prometheus label name ${JSON.stringify(name)}`);
  return name;
}

// ---------------------------------------------------------------------------------------------------------
// Snapshots and deltas (pure)

export interface SeriesValue {
  labels: Labels;
  value: number;
}

/** The selected counters at one moment. `series` are raw; `groups` are summed by `selector.by`. */
export interface Snapshot {
  selector: MetricSelector;
  promql: string;
  /** Evaluation time, unix seconds (the client's clock when nothing matched). */
  time: number;
  series: SeriesValue[];
  groups: SeriesValue[];
}

/** A counter before and after one batch, named for what it shows ("requests at reviews by version"). */
export interface MetricObservation {
  name: string;
  before: Snapshot;
  after: Snapshot;
}

export interface Delta {
  promql: string;
  from: number;
  to: number;
  /** Sum of every group's increase. */
  total: number;
  /** Per group of `selector.by`: `value` is the increase. */
  groups: SeriesValue[];
  /** Series in `after` (0 means nothing matched the selector). */
  seriesMatched: number;
  /** Series whose value went down: the counter restarted (sidecar restart), counted from 0. */
  resets: number;
}

/** A baseline with nothing in it: every series counts from 0. */
export function emptySnapshot(selector: MetricSelector, time = Date.now() / 1000): Snapshot {
  return { selector, promql: seriesSelector(selector), time, series: [], groups: [] };
}

export function snapshotOf(selector: MetricSelector, time: number, series: SeriesValue[]): Snapshot {
  return { selector, promql: seriesSelector(selector), time, series, groups: sumBy(series, selector.by ?? []) };
}

/**
 * Increase per group between two snapshots of the same selector. Works per raw series and sums after:
 * summing first would hide one sidecar's counter reset behind another's growth. A series new in `after`
 * counts from 0; one that went down restarted, so its whole value is new; one that vanished adds nothing.
 */
export function delta(before: Snapshot, after: Snapshot): Delta {
  if (before.promql !== after.promql || String(before.selector.by ?? []) !== String(after.selector.by ?? [])) {
    throw new MeshproofError(`cannot diff snapshots of different selectors: ${before.promql} and ${after.promql}`);
  }
  const previous = new Map(before.series.map((s) => [seriesKey(s.labels), s.value]));
  let resets = 0;
  const increases = after.series.map(({ labels: l, value: v }) => {
    const was = previous.get(seriesKey(l));
    if (was !== undefined && v < was) resets += 1;
    return { labels: l, value: was === undefined || v < was ? v : v - was };
  });
  const groups = sumBy(increases, after.selector.by ?? []);
  return {
    promql: after.promql,
    from: before.time,
    to: after.time,
    total: groups.reduce((sum, g) => sum + g.value, 0),
    groups,
    seriesMatched: after.series.length,
    resets,
  };
}

/** The increase of the groups whose labels include `labels` (e.g. `{ response_code: '503' }`). */
export function increaseOf(d: Delta, labels: Labels): number {
  return d.groups
    .filter((g) => Object.entries(labels).every(([k, v]) => (g.labels[k] ?? '') === v))
    .reduce((sum, g) => sum + g.value, 0);
}

function sumBy(series: SeriesValue[], by: string[]): SeriesValue[] {
  const groups = new Map<string, SeriesValue>();
  for (const s of series) {
    // As PromQL's `sum by`: a label the series lacks is left out of the group's labels.
    const group = Object.fromEntries(by.filter((k) => s.labels[k]).map((k) => [k, s.labels[k]!]));
    const key = seriesKey(group);
    const entry = groups.get(key) ?? { labels: group, value: 0 };
    entry.value += s.value;
    groups.set(key, entry);
  }
  return [...groups.values()];
}

function seriesKey(l: Labels): string {
  return JSON.stringify(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export function describeDelta(d: Delta, atLeast: number): string {
  if (d.seriesMatched === 0) return `no series matched ${d.promql}`;
  const shown = d.groups.slice(0, 6).map((g) => `${fmtLabels(g.labels)}: ${g.value}`);
  if (d.groups.length > 6) shown.push('…');
  const grouped = Object.keys(d.groups[0]?.labels ?? {}).length > 0;
  const groups = grouped ? ` (${shown.join(', ')})` : '';
  const resets = d.resets ? `, ${d.resets} counter reset(s)` : '';
  const since = new Date(d.from * 1000).toISOString();
  const over = `over ${d.seriesMatched} series since ${since}`;
  return `increase ${d.total} of the ${atLeast} wanted, ${over}${groups}${resets}`;
}

function fmtLabels(l: Labels): string {
  return `{${Object.entries(l).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

