// The renderer's origin in the app: heron://app/, a privileged custom scheme served from
// dist/renderer by protocol.handle. A page from file:// would need the
// GrantFileProtocolExtraPrivileges fuse and would make 'self' in the CSP cover every local file;
// this origin covers our renderer and nothing else.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { CustomScheme } from 'electron';
import { contentSecurityPolicy, rendererHeaders } from './renderer-serving';

export const APP_SCHEME = 'heron';
export const APP_ORIGIN = `${APP_SCHEME}://app`;
export const APP_URL = `${APP_ORIGIN}/index.html`;
/** The packaged page's policy: no WebSocket, no other origin. */
export const APP_CSP = contentSecurityPolicy();

/**
 * Registered before `ready`. Standard: relative URLs, an origin, web storage. Secure: a secure
 * context like https. Fetch for the page's own files. Never bypassCSP, never service workers,
 * and no corsEnabled: only our own origin may read from it (its module scripts are same-origin
 * CORS requests, which a standard scheme allows; electron/electron#51152).
 */
export const APP_SCHEME_REGISTRATION: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
};

/** What the handler needs of a request (Electron's GlobalRequest has more). */
export type AppRequest = { url: string; method: string };

const notFound = () => new Response('not found', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });

/**
 * The file under `root` a request names, or undefined. Checked on the URL as it came, before
 * any normalisation: a `.` or `..` segment (also percent-encoded), a backslash, an encoded
 * slash, a NUL, an empty segment or a drive letter refuse the request. The real path (symlinks
 * followed) must still lie inside the real root.
 */
export async function resolveAppFile(root: string, url: string): Promise<string | undefined> {
  const prefix = `${APP_ORIGIN}/`;
  if (!url.startsWith(prefix)) return undefined;
  const rawPath = url.slice(prefix.length).split(/[?#]/, 1)[0] ?? '';
  const segments: string[] = [];
  for (const raw of rawPath === '' ? ['index.html'] : rawPath.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment === '' || segment === '.' || segment === '..' || /[/\\:\0]/.test(segment)) return undefined;
    segments.push(segment);
  }
  try {
    const realRoot = await fs.realpath(root);
    const real = await fs.realpath(path.join(realRoot, ...segments));
    if (!real.startsWith(realRoot + path.sep)) return undefined;
    return (await fs.stat(real)).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** The protocol.handle handler for APP_SCHEME, serving the built renderer in `root`. */
export function appProtocolHandler(root: string): (request: AppRequest) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response(null, { status: 405, headers: { Allow: 'GET, HEAD' } });
    }
    const file = await resolveAppFile(root, request.url);
    if (file === undefined) return notFound();
    const headers = rendererHeaders(file, APP_CSP);
    return new Response(request.method === 'HEAD' ? null : await fs.readFile(file), { status: 200, headers });
  };
}
