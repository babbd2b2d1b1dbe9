/**
 * PromDiff, after Istio's (tests/integration/telemetry/util.go): when a query for a metric with labels
 * matches nothing, compare the wanted labels with the series that do exist under that metric name and
 * say which labels differ on the closest one, so the failure explains itself.
 */

export type Labels = Record<string, string>;

export interface DiffSelector {
  metric: string;
  labels?: Labels;
}

/**
 * One sentence. `candidates` are the label sets present under `selector.metric` (only the wanted labels
 * need to be in them; a label a series lacks counts as the empty string, as in PromQL matching).
 */
export function promDiff(selector: DiffSelector, candidates: Labels[]): string {
  if (candidates.length === 0) return `no series named ${selector.metric} at all`;
  const wanted = Object.entries(selector.labels ?? {});
  const ranked = candidates
    .map((labels) => ({
      labels,
      differing: wanted.filter(([name, value]) => (labels[name] ?? '') !== value),
    }))
    // Fewest differing labels first; ties by label text so the same data always gives the same sentence.
    .sort((a, b) => a.differing.length - b.differing.length || key(a.labels).localeCompare(key(b.labels)));
  const closest = ranked[0]!;
  const count = `${candidates.length} ${selector.metric} series`;
  if (closest.differing.length === 0) {
    return `${count} exist and one has every wanted label (${format(closest.labels)})`;
  }
  const parts = closest.differing.map(([name, value]) => {
    const found = closest.labels[name];
    const shown = found === undefined || found === '' ? 'no such label' : JSON.stringify(found);
    return `${name}: wanted ${JSON.stringify(value)}, found ${shown}`;
  });
  return `none of the ${count} has every wanted label; closest series differs in ${parts.join('; ')}`;
}

function key(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

function format(labels: Labels): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
}
