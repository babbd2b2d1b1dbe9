import { doublePodnames, encodeSession, productPage, reviewTexts, sessionUser, type ReviewsVersion } from '../bookinfo-double.ts';
import type { SimRequest, SimResponse } from './sidecar.ts';
import type { Workload } from './workloads.ts';

/**
 * The applications behind the simulated sidecars, with the behaviour the suites rely on, as in
 * istio/istio@1.30.3 samples/bookinfo/src and go-httpbin:
 *  - productpage sets `end-user` only from its session and forwards user-agent, cookie and x-request-id
 *    (productpage.py getForwardHeaders); it gives reviews two tries of 3 s each and passes a non-200 status on,
 *    500 when both tries got no answer;
 *  - reviews v2/v3 call ratings with end-user and user-agent forwarded, waiting 10 s (black stars) or 2.5 s
 *    (red), and answer 200 with a rating error when ratings fails (LibertyRestEndpoint.java);
 *  - httpbin answers /status/<code> with that code and an empty body, /headers with the request headers.
 * Every outgoing call goes through the app's own sidecar (`call`).
 */
export type Call = (req: SimRequest, timeoutMs: number) => Promise<SimResponse | undefined>;

export type App = (req: SimRequest, call: Call) => Promise<SimResponse>;

const json = (status: number, value: unknown): SimResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });

const forwarded = ['x-request-id', 'user-agent', 'cookie', 'authorization', 'traceparent', 'tracestate', 'end-user'];

function forwardHeaders(req: SimRequest, withEndUser: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of forwarded) {
    if (name === 'end-user' && !withEndUser) continue;
    if (req.headers[name] !== undefined) headers[name] = req.headers[name]!;
  }
  return headers;
}

const reviewsUnavailable = 'Sorry, product reviews are currently unavailable for this book.';

async function productpage(req: SimRequest, call: Call): Promise<SimResponse> {
  const path = req.path.split('?')[0];
  const user = sessionUser(req.headers.cookie);
  // productpage sets end-user from its session only: an incoming end-user header is not forwarded.
  const headers = { ...forwardHeaders(req, false), ...(user && { 'end-user': user }) };
  const reviews = async () => {
    let last: SimResponse | undefined;
    for (let i = 0; i < 2; i += 1) {
      last = await call({ method: 'GET', host: 'reviews:9080', path: '/reviews/0', headers }, 3_000);
      if (last?.status === 200) return { status: 200, body: last.body };
    }
    return { status: last?.status || 500, body: JSON.stringify({ error: reviewsUnavailable }) };
  };
  if (req.method === 'POST' && path === '/login') {
    const name = new URLSearchParams(req.body ?? '').get('username');
    if (!name) return { status: 400, headers: {}, body: 'Bad Request' };
    return { status: 302, headers: { location: req.headers.referer ?? 'None', 'set-cookie': `session=${encodeSession(name)}; HttpOnly; Path=/` }, body: '' };
  }
  if (path === '/logout') return { status: 302, headers: { location: req.headers.referer ?? 'None', 'set-cookie': 'session=; Max-Age=0; Path=/' }, body: '' };
  if (path === '/api/v1/products/0/reviews') {
    const answer = await reviews();
    return { status: answer.status, headers: { 'content-type': 'application/json' }, body: answer.body };
  }
  if (path === '/api/v1/products') return json(200, [{ id: 0, title: 'The Comedy of Errors' }]);
  if (path === '/productpage') {
    const details = await call({ method: 'GET', host: 'details:9080', path: '/details/0', headers }, 3_000);
    const answer = await reviews();
    const parsed = answer.status === 200 ? (JSON.parse(answer.body) as { podname?: string; reviews?: { rating?: { error?: string } }[] }) : undefined;
    const version = (/^reviews-(v\d)-/.exec(parsed?.podname ?? '')?.[1] ?? 'v1') as ReviewsVersion;
    const html = productPage(version, user, {
      reviewsUnavailable: answer.status !== 200,
      detailsUnavailable: details?.status !== 200,
      ratingsUnavailable: parsed?.reviews?.some((r) => r.rating?.error !== undefined) ?? false,
    });
    return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: html };
  }
  return { status: 404, headers: {}, body: '' };
}

const details: App = async () =>
  json(200, { id: 0, author: 'William Shakespeare', year: 1595, type: 'paperback', pages: 200, publisher: 'PublisherA', language: 'English', 'ISBN-10': '1234567890', 'ISBN-13': '123-1234567890' });

function reviews(version: ReviewsVersion): App {
  return async (req, call) => {
    if (!/^\/reviews\/\d+/.test(req.path)) return { status: 404, headers: {}, body: '' };
    let rating: { stars?: number; color?: string; error?: string }[] | undefined;
    if (version !== 'v1') {
      const color = version === 'v3' ? 'red' : 'black';
      const answer = await call({ method: 'GET', host: 'ratings:9080', path: '/ratings/0', headers: forwardHeaders(req, true) }, color === 'black' ? 10_000 : 2_500);
      const stars = answer?.status === 200 ? (JSON.parse(answer.body) as { ratings: Record<string, number> }).ratings : undefined;
      rating = reviewTexts.map(([reviewer]) => (stars ? { stars: stars[reviewer]!, color } : { error: 'Ratings service is currently unavailable' }));
    }
    // Built by concatenation in LibertyRestEndpoint.java: id is a string, clustername the string "null".
    return json(200, {
      id: '0',
      podname: doublePodnames[version],
      clustername: 'null',
      reviews: reviewTexts.map(([reviewer, text], i) => ({ reviewer, text, ...(rating && { rating: rating[i] }) })),
    });
  };
}

const ratings: App = async (req) => (/^\/ratings\/\d+/.test(req.path) ? json(200, { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } }) : { status: 404, headers: {}, body: '' });

const httpbin: App = async (req) => {
  const status = /^\/status\/(\d{3})/.exec(req.path)?.[1];
  if (status) return { status: Number(status), headers: {}, body: '' };
  if (req.path.startsWith('/headers')) return json(200, { headers: req.headers });
  if (req.path.startsWith('/get')) return json(200, { url: req.path, headers: req.headers });
  return { status: 404, headers: {}, body: '' };
};

export function appOf(w: Workload): App | undefined {
  if (w.app === 'productpage') return productpage;
  if (w.app === 'details') return details;
  if (w.app === 'reviews') return reviews(w.version as ReviewsVersion);
  if (w.app === 'ratings') return ratings;
  if (w.app === 'httpbin') return httpbin;
  return undefined;
}
