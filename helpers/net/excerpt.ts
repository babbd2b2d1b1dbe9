/**
 * The first characters of a body, on one line, for a "last seen" message or a classification. Apart from http.ts so
 * that what only reads recorded answers (`meshproof judge`) does not load the HTTP client.
 */
export function excerpt(body: string, length = 120): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length)}…` : flat;
}
