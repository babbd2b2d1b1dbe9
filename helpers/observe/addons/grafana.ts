/**
 * Grafana: dashboards by exact title in a folder, and their panels. The shapes are the HTTP API docs'
 * Folder/Dashboard Search API (`GET /api/search?query=…&type=dash-db`, hits with uid, title, type, folderTitle)
 * and Dashboard API ("Get dashboard by uid": `{dashboard: {uid, title, panels, …}, meta: {folderUid, …}}`),
 * https://grafana.com/docs/grafana/latest/developers/http_api/.
 */
import { z } from 'zod';
import { listed, parseAnswer, reading, withoutTrailingSlash, type Answered, type Reading } from './answer.ts';

export const grafanaApi = {
  search: (base: string, query: string) => `${withoutTrailingSlash(base)}/api/search?${new URLSearchParams({ query, type: 'dash-db' })}`,
  dashboard: (base: string, uid: string) => `${withoutTrailingSlash(base)}/api/dashboards/uid/${encodeURIComponent(uid)}`,
};

const searchHit = z.object({
  uid: z.string(),
  title: z.string(),
  type: z.string().optional(),
  folderTitle: z.string().optional(),
  folderUid: z.string().optional(),
});
const searchAnswer = z.array(searchHit);
export type GrafanaSearchHit = z.infer<typeof searchHit>;

export interface DashboardsInFolder {
  /** Exact titles, as istio/istio@1.30.3 samples/addons/grafana.yaml installs them, e.g. "Istio Mesh Dashboard". */
  titles: readonly string[];
  /** The folder every title must be in, "istio". */
  folder: string;
}

/**
 * Reads `/api/search?query=…&type=dash-db`: every title must be a dashboard (`dash-db`) in `folder`. A
 * dashboard at the root has no folderTitle (Grafana's "General"). Returns the uid of each title found there.
 */
export function readDashboardsInFolder(answer: Answered, expected: DashboardsInFolder): Reading & { uids: Record<string, string> } {
  const want = `all ${expected.titles.length} in folder ${expected.folder}`;
  const parsed = parseAnswer(answer, searchAnswer, "Grafana's /api/search answer");
  if (!parsed.ok) return { ...reading(want, parsed.classification), uids: {} };
  const dashboards = parsed.value.filter((hit) => (hit.type ?? 'dash-db') === 'dash-db');
  const uids: Record<string, string> = {};
  const problems: string[] = [];
  for (const title of expected.titles) {
    const hits = dashboards.filter((hit) => hit.title === title);
    const inFolder = hits.find((hit) => hit.folderTitle === expected.folder);
    if (inFolder) uids[title] = inFolder.uid;
    else if (hits.length === 0) problems.push(`${title}: not found`);
    else problems.push(`${title}: in folder ${listed(hits.map((hit) => hit.folderTitle ?? 'General'))}`);
  }
  if (problems.length === 0) return { ...reading(want, want), uids };
  const seen = dashboards.map((hit) => `${hit.title} (${hit.folderTitle ?? 'General'})`);
  return { ...reading(want, `${problems.join('; ')} — dashboards found: ${listed(seen, 10)}`), uids };
}

// A panel may be a row; a collapsed row holds its panels inside it. Dashboards of schema < 16 keep panels in rows[].
type Panel = { type?: string; panels?: Panel[] };
const panel: z.ZodType<Panel> = z.lazy(() => z.object({ type: z.string().optional(), panels: z.array(panel).optional() }));
const dashboardAnswer = z.object({
  dashboard: z.object({
    title: z.string(),
    panels: z.array(panel).optional(),
    rows: z.array(z.object({ panels: z.array(panel).optional() })).optional(),
  }),
});

/** The panels that show something: rows are containers, counted through, not as panels. */
export function countPanels(panels: readonly Panel[]): number {
  return panels.reduce((n, p) => n + (p.type === 'row' ? countPanels(p.panels ?? []) : 1), 0);
}

/** Reads `/api/dashboards/uid/:uid`: the dashboard titled `title` has at least one panel. */
export function readDashboardPanels(answer: Answered, title: string): Reading & { panels: number } {
  const want = 'has panels';
  const parsed = parseAnswer(answer, dashboardAnswer, 'a Grafana dashboard');
  if (!parsed.ok) return { ...reading(want, parsed.classification), panels: 0 };
  const { dashboard } = parsed.value;
  if (dashboard.title !== title) return { ...reading(want, `the dashboard is titled "${dashboard.title}"`), panels: 0 };
  const panels = countPanels(dashboard.panels ?? []) + countPanels((dashboard.rows ?? []).flatMap((row) => row.panels ?? []));
  return { ...reading(want, panels > 0 ? want : 'no panels'), panels };
}

