/**
 * A loopback stand-in for Bookinfo behind the ingress gateway: real sockets on 127.0.0.1, the current
 * productpage markup, the reviews JSON, Flask-style login — plus the knobs a mesh would turn (the version
 * split, a user-based route, latency, 500s, a concurrency limit, resets). Its HTML is written here by hand
 * and never imported from the classifiers, so a classifier test against it is not a tautology.
 *
 * Behaviour modelled on istio/istio@1.30.3 samples/bookinfo/src:
 *   - productpage/productpage.py: the routes (/productpage, /login, /logout, /api/v1/products/0/reviews), the
 *     `session` cookie on login's 302, and the two 3 s attempts at reviews;
 *   - productpage/templates/productpage.html: the markup the classifiers read;
 *   - reviews/reviews-application/src/main/java/application/rest/LibertyRestEndpoint.java: the reviews JSON
 *     (`podname`, a `rating` only in v2 and v3, black or red stars).
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export type ReviewsVersion = 'v1' | 'v2' | 'v3';

export interface BookinfoDoubleOptions {
  /** Relative weights of the reviews versions for anonymous traffic (a VirtualService's weights). */
  weights?: Partial<Record<ReviewsVersion, number>>;
  /**
   * Users routed to one version (virtual-service-reviews-test-v2.yaml: jason → v2). Applies only to requests
   * carrying that user's `session` cookie: as productpage, the double ignores an incoming `end-user` header.
   */
  userRoutes?: Record<string, ReviewsVersion>;
  /** Added to every answer (ms). */
  latencyMs?: number;
  /** Added for logged-in users by name (a fault delay that matches `end-user`). */
  userLatencyMs?: Record<string, number>;
  /** Share of requests answered 500 (a fault abort at the gateway), 0…1. */
  errorRate?: number;
  /** Requests beyond this many in flight get 503 at once (a circuit breaker's overflow). */
  maxInFlight?: number;
  /** Every connection is reset after its first bytes arrive, as a STRICT-mTLS sidecar treats plaintext. */
  plaintextRejected?: boolean;
  /** Outages the product page shows as text (it stays 200) and the JSON API as 500 / rating errors. */
  reviewsUnavailable?: boolean;
  detailsUnavailable?: boolean;
  ratingsUnavailable?: boolean;
  /**
   * Requests whose User-Agent is a key here are answered with that status: a VirtualService route matching the
   * user-agent with a fault abort (meshproof's config-live probe), as productpage's API passes the status on.
   */
  abortUserAgents?: Record<string, number>;
  /** Users whose reviews call fails (productpage gave up on reviews): their API answer is 500. */
  reviewsUnavailableFor?: string[];
  /** A route timeout: an answer that would take longer is cut off with 504 at this many ms (flag UT). */
  routeTimeoutMs?: number;
  /** Called for every answer cut off by routeTimeoutMs. */
  onTimeout?: () => void;
  /** Called for every request refused by maxInFlight (a client sidecar's circuit breaker, flag UO). */
  onOverflow?: () => void;
  /** Called for every request answered by errorRate's 500 (a client sidecar's fault abort, flag FI). */
  onAbort?: () => void;
  /** Called for every reviews answer with the version that served it (a destination sidecar's metric). */
  onReviews?: (version: ReviewsVersion, user: string | undefined) => void;
  /** Seed of the double's random choices (version split, error rate); the same seed, the same sequence. */
  seed?: number;
}

export interface BookinfoDoubleStats {
  /** HTTP requests that reached a handler (resets before a request are not counted). */
  requests: number;
  /** TCP connections accepted. */
  connections: number;
  /** Connections reset in plaintext-rejected mode. */
  resets: number;
  inFlight: number;
  /** The most requests in flight at once since the start (or the last resetStats). */
  maxInFlight: number;
  byPath: Record<string, number>;
  /** Which reviews version served /productpage and the reviews API. */
  byVersion: Record<ReviewsVersion, number>;
  /** Answers by status code. */
  byStatus: Record<string, number>;
  /** The `end-user` headers that arrived (they must change nothing). */
  endUserHeaders: number;
  /** The last requests (at most 500): method, path with query, and the request headers. */
  recent: Array<{ method: string; path: string; headers: Record<string, string> }>;
}

export interface BookinfoDouble {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  /** Merges new options in; the random sequence continues (reseed with `seed`). */
  setOptions(options: BookinfoDoubleOptions): void;
  stats(): BookinfoDoubleStats;
  resetStats(): void;
  stop(): Promise<void>;
}

/** The pod names each version reports (`podname` = $HOSTNAME of a Deployment pod). */
export const doublePodnames: Record<ReviewsVersion, string> = {
  v1: 'reviews-v1-5b8f7c6d9-q4m2n',
  v2: 'reviews-v2-6f9b8d5c4-x2x7k',
  v3: 'reviews-v3-7d4c9b8f6-p8r6t',
};

export const reviewTexts = [
  ['Reviewer1', 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!', 5],
  [
    'Reviewer2',
    'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.',
    4,
  ],
] as const;

export async function startBookinfoDouble(initial: BookinfoDoubleOptions = {}): Promise<BookinfoDouble> {
  let options: BookinfoDoubleOptions = { ...initial };
  let random = mulberry32(initial.seed ?? 1);
  let stats = emptyStats();
  const sockets = new Set<Socket>();

  const http = createHttpServer({ keepAliveTimeout: 60_000 }, (request, response) => {
    void handle(request, response);
  });
  // A plain TCP server in front, so that the reset mode can act before the HTTP parser sees a byte.
  const tcp = createNetServer((socket) => {
    stats.connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (options.plaintextRejected) {
      socket.once('data', () => {
        stats.resets += 1;
        socket.resetAndDestroy();
      });
      socket.on('error', () => {});
      return;
    }
    http.emit('connection', socket);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://double');
    stats.requests += 1;
    stats.byPath[url.pathname] = (stats.byPath[url.pathname] ?? 0) + 1;
    if (request.headers['end-user'] !== undefined) stats.endUserHeaders += 1;
    stats.recent.push({
      method: request.method ?? 'GET',
      path: request.url ?? '/',
      headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])),
    });
    if (stats.recent.length > 500) stats.recent.shift();
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    response.once('close', () => {
      stats.inFlight -= 1;
      stats.byStatus[response.statusCode] = (stats.byStatus[response.statusCode] ?? 0) + 1;
    });
    const body = await readBody(request);
    const user = sessionUser(request.headers.cookie);

    if (options.maxInFlight !== undefined && stats.inFlight > options.maxInFlight) {
      options.onOverflow?.();
      const text = 'upstream connect error or disconnect/reset before headers. reset reason: overflow';
      return send(response, 503, 'text/plain', text);
    }
    const wait = (options.latencyMs ?? 0) + (user ? (options.userLatencyMs?.[user] ?? 0) : 0);
    if (options.routeTimeoutMs !== undefined && wait > options.routeTimeoutMs) {
      await delay(options.routeTimeoutMs);
      options.onTimeout?.();
      return send(response, 504, 'text/plain', 'upstream request timeout');
    }
    if (wait > 0) await delay(wait);
    if (response.destroyed) return;
    if ((options.errorRate ?? 0) > 0 && random() < (options.errorRate ?? 0)) {
      options.onAbort?.();
      return send(response, 500, 'text/plain', 'fault filter abort');
    }

    const abortStatus = options.abortUserAgents?.[request.headers['user-agent'] ?? ''];
    if (abortStatus !== undefined) return send(response, abortStatus, 'text/plain', 'fault filter abort');

    if (url.pathname === '/login' && request.method === 'POST') return login(request, response, body);
    if (url.pathname === '/logout') return logout(request, response);
    if (url.pathname === '/productpage') {
      const version = chooseVersion(user);
      return send(response, 200, 'text/html; charset=utf-8', productPage(version, user, options));
    }
    if (url.pathname === '/api/v1/products/0/reviews') {
      if (options.reviewsUnavailable || (user !== undefined && options.reviewsUnavailableFor?.includes(user))) {
        const error = 'Sorry, product reviews are currently unavailable for this book.';
        return send(response, 500, 'application/json', JSON.stringify({ error }));
      }
      const version = chooseVersion(user);
      return send(response, 200, 'application/json', JSON.stringify(reviewsJson(version, options)));
    }
    if (url.pathname === '/api/v1/products') {
      return send(response, 200, 'application/json', JSON.stringify([{ id: 0, title: 'The Comedy of Errors' }]));
    }
    // The ingress VirtualService routes only /productpage, /static, /login, /logout and /api/v1/products.
    return send(response, 404, 'text/plain', '');
  }

  function chooseVersion(user: string | undefined): ReviewsVersion {
    const routed = user === undefined ? undefined : options.userRoutes?.[user];
    const version = routed ?? weighted(options.weights ?? { v1: 1, v2: 1, v3: 1 }, random());
    if (!options.reviewsUnavailable) {
      stats.byVersion[version] += 1;
      options.onReviews?.(version, user);
    }
    return version;
  }

  function login(request: IncomingMessage, response: ServerResponse, body: string): void {
    const user = new URLSearchParams(body).get('username');
    if (!user) return send(response, 400, 'text/plain', 'Bad Request');
    // Flask: redirect(request.referrer) is `Location: None` when there is no Referer.
    response.setHeader('location', request.headers.referer ?? 'None');
    response.setHeader('set-cookie', `session=${encodeSession(user)}; HttpOnly; Path=/`);
    send(response, 302, 'text/html; charset=utf-8', '<!doctype html><title>Redirecting...</title>');
  }

  function logout(request: IncomingMessage, response: ServerResponse): void {
    response.setHeader('location', request.headers.referer ?? 'None');
    response.setHeader('set-cookie', 'session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/');
    send(response, 302, 'text/html; charset=utf-8', '<!doctype html><title>Redirecting...</title>');
  }

  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
  return {
    url,
    setOptions(next) {
      options = { ...options, ...next };
      if (next.seed !== undefined) random = mulberry32(next.seed);
    },
    stats: () => structuredClone(stats),
    resetStats() {
      const inFlight = stats.inFlight;
      stats = emptyStats();
      stats.inFlight = inFlight;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        if (!tcp.listening) return resolve();
        tcp.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function emptyStats(): BookinfoDoubleStats {
  return {
    requests: 0,
    connections: 0,
    resets: 0,
    inFlight: 0,
    maxInFlight: 0,
    byPath: {},
    byVersion: { v1: 0, v2: 0, v3: 0 },
    byStatus: {},
    endUserHeaders: 0,
    recent: [],
  };
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  if (response.destroyed) return;
  const bytes = Buffer.from(body);
  response.writeHead(status, { 'content-type': type, 'content-length': String(bytes.length) }).end(bytes);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', () => resolve(''));
  });
}

// Shaped like Flask's signed cookie (payload.timestamp.signature); the double only reads the payload.
export function encodeSession(user: string): string {
  return `${Buffer.from(JSON.stringify({ user })).toString('base64url')}.double.unsigned`;
}

export function sessionUser(cookieHeader: string | undefined): string | undefined {
  const match = /(?:^|;\s*)session=([^;.]+)\./.exec(cookieHeader ?? '');
  if (!match?.[1]) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(match[1], 'base64url').toString('utf8')) as { user?: unknown };
    return typeof payload.user === 'string' ? payload.user : undefined;
  } catch {
    return undefined;
  }
}

function weighted(weights: Partial<Record<ReviewsVersion, number>>, roll: number): ReviewsVersion {
  const entries = (['v1', 'v2', 'v3'] as const).map((v) => [v, weights[v] ?? 0] as const);
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let threshold = roll * total;
  for (const [version, weight] of entries) {
    if (threshold < weight) return version;
    threshold -= weight;
  }
  return entries.filter(([, w]) => w > 0).pop()?.[0] ?? 'v1';
}

/** A small seeded PRNG (mulberry32): uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------------
// Bodies

function reviewsJson(version: ReviewsVersion, options: BookinfoDoubleOptions) {
  return {
    id: '0', // a string: LibertyRestEndpoint.java concatenates it in quotes
    podname: doublePodnames[version],
    clustername: 'null', // $CLUSTER_NAME unset prints as the string "null"
    reviews: reviewTexts.map(([reviewer, text, stars]) => ({
      reviewer,
      text,
      ...(version === 'v1'
        ? {}
        : {
            rating: options.ratingsUnavailable
              ? { error: 'Ratings service is currently unavailable' }
              : { stars, color: version === 'v3' ? 'red' : 'black' },
          }),
    })),
  };
}

const filledStar =
  '<svg id="glyphicon glyphicon-star" class="h-5 w-5 flex-none" viewBox="0 0 20 20" fill="currentColor" aria-hidden="true">\n' +
  '  <path fill-rule="evenodd" d="M10 2l2.4 5.2 5.6.5-4.2 3.7 1.3 5.5L10 14l-5.1 2.9 1.3-5.5L2 7.7l5.6-.5z" clip-rule="evenodd" />\n' +
  '</svg>';
const emptyStar =
  '<svg xmlns="http://www.w3.org/2000/svg" fill="none" viewBox="0 0 24 24" stroke-width="1.5" stroke="currentColor" class="h-5 w-5 flex-none">\n' +
  '  <path stroke-linecap="round" stroke-linejoin="round" d="M12 3l2.5 5.5 6 .5-4.5 4 1.3 5.8L12 16l-5.3 2.8L8 13l-4.5-4 6-.5z" />\n' +
  '</svg>';

/** productpage's page (templates/productpage.html markup), also rendered by the simulated mesh's productpage. */
export function productPage(version: ReviewsVersion, user: string | undefined, options: Pick<BookinfoDoubleOptions, 'reviewsUnavailable' | 'detailsUnavailable' | 'ratingsUnavailable'>): string {
  const signIn = user
    ? `<p class="text-base font-medium text-gray-50">${user}</p>\n<a href="logout" class="text-xs font-medium text-gray-400">Sign out</a>`
    : '<button type="button" id="sign-in-button" class="rounded-md bg-blue-600 px-3.5 py-2.5 text-sm font-semibold text-white">Sign in</button>';
  const details = options.detailsUnavailable
    ? '<p class="text-2xl text-red-500">Error fetching product details</p>\n' +
      '<p class="text-lg text-gray-600">Sorry, product details are currently unavailable for this book.</p>'
    : '<h4 class="text-3xl font-semibold">Book Details</h4>\n<table class="min-w-full divide-y divide-gray-300">' +
      '<tr><td>1234567890</td><td>PublisherA</td><td>200</td><td>paperback</td><td>English</td></tr></table>';
  const reviews = options.reviewsUnavailable
    ? '<p class="text-2xl text-red-500">Error fetching product reviews</p>\n' +
      '<p class="text-lg text-gray-600">Sorry, product reviews are currently unavailable for this book.</p>'
    : '<h4 class="text-3xl font-semibold">Book Reviews</h4>\n<div class="flex flex-col md:flex-row">\n' +
      reviewTexts.map(([reviewer, text, stars]) => reviewSection(version, reviewer, text, stars, options)).join('\n') +
      '\n</div>';
  return `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>Simple Bookstore App</title>
<script src="static/tailwind/tailwind.css"></script>
</head>
<body>
<nav class="bg-gray-800">
  <a href="#" class="text-white px-3 py-2 text-lg font-medium" aria-current="page">BookInfo Sample</a>
  ${signIn}
</nav>
<dialog id="dialog" class="w-full sm:w-2/3 lg:w-1/3 border rounded-md shadow-xl">
  <form class="space-y-6" method="post" action='login' name="login_form">
    <input id="username" name="username" required>
    <input id="password" name="passwd" type="password" required>
    <button type="submit">Sign in</button>
  </form>
</dialog>
<div class="container mt-8 mx-auto px-4 sm:px-6 lg:px-8">
  <h1 class="text-5xl font-bold tracking-tight text-blue-900">The Comedy of Errors</h1>
  <p class="mt-6 text-xl leading-8 text-gray-600">Wikipedia Summary: The Comedy of Errors is one of William Shakespeare's early plays.</p>
</div>
<div class="container mt-8 mx-auto px-4 sm:px-6 lg:px-8">
${details}
</div>
<div class="bg-blue-600/5 py-12 mx-auto">
  <div class="max-w-2xl">
${reviews}
  </div>
</div>
</body>
</html>
`;
}

function reviewSection(
  version: ReviewsVersion,
  reviewer: string,
  text: string,
  stars: number,
  options: Pick<BookinfoDoubleOptions, 'ratingsUnavailable'>,
): string {
  let rating = '';
  if (version !== 'v1') {
    rating = options.ratingsUnavailable
      ? '<p class="text-red-500">Ratings service is currently unavailable</p>'
      : `<div class="flex gap-x-1 text-${version === 'v3' ? 'red' : 'black'}-500">\n` +
        Array.from({ length: stars }, () => filledStar).join('\n') +
        '\n' +
        Array.from({ length: 5 - stars }, () => emptyStar).join('\n') +
        '\n</div>';
  }
  return `<section class="px-6 py-12 sm:py-8 lg:px-8">
  <div class="mx-auto max-w-2xl">
    ${rating}
    <blockquote class="mt-10 text-xl font-semibold leading-8 tracking-tight text-gray-900">
      <p>"${text}"</p>
    </blockquote>
    <div class="mt-4 flex items-center gap-x-6">
      <div class="font-semibold text-gray-900">${reviewer}</div>
      <div class="mt-0.5 text-gray-600 font-mono">Reviews served by: 
        ${doublePodnames[version]}
        
      </div>
    </div>
  </div>
</section>`;
}
