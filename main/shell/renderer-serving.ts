// What every server of the built renderer sends with it: the Electron app's custom scheme
// (app-protocol.ts) and the headless host (main/host/server.ts). The page's policy lives here
// and not in a <meta> tag, so the packaged app's policy has no WebSocket source at all while
// the host adds exactly its own.

/**
 * The page's Content-Security-Policy. `connectSources` are added to connect-src: the headless
 * host passes its own WebSocket; the app passes none (its page talks to main over IPC only).
 */
export function contentSecurityPolicy(connectSources: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    ['connect-src', "'self'", ...connectSources].join(' '),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** The Content-Type for a file by its extension; unknown files are opaque bytes (nosniff keeps them so). */
export function contentTypeFor(file: string): string {
  const dot = file.lastIndexOf('.');
  return (dot === -1 ? undefined : CONTENT_TYPES[file.slice(dot).toLowerCase()]) ?? 'application/octet-stream';
}

/** Headers for one file of the renderer, the CSP with them. */
export function rendererHeaders(file: string, csp: string): Record<string, string> {
  return {
    'Content-Type': contentTypeFor(file),
    'Content-Security-Policy': csp,
    // A file is only ever what its extension says (no script from an image, say).
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
}
