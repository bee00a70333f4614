// Where sign-in may send a person back to: a path on this site, never another one. `next` comes
// from the address bar, so anyone can craft it. Parsing it the way the browser will navigate
// (backslashes as slashes, tabs and newlines dropped) and comparing origins catches `//host`,
// `/\host`, `javascript:` and absolute URLs alike; anything else goes to `/`.
export function safeNextPath(next: string | null | undefined, origin: string): string {
  if (!next || !next.startsWith('/')) return '/';
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return '/';
  }
  if (url.origin !== new URL(origin).origin) return '/';
  const path = `${url.pathname}${url.search}${url.hash}`;
  // A path that starts with two slashes (`/.//host`) would leave the site when navigated to; one
  // that does once decoded (`/%5Chost`) might, through anything that decodes it again.
  return leavesSite(path) || leavesSite(decoded(url.pathname)) ? '/' : path;
}

function leavesSite(path: string): boolean {
  return /^\/[/\\]/.test(path);
}

function decoded(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
