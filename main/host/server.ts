// The headless host: serves the built renderer on 127.0.0.1 and carries the contract over a
// WebSocket in place of Electron IPC. Only a page from this very origin that presents this
// run's random token gets in; anything else is refused before it reaches the core.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { Core } from '../core';
import type { CommandError, WireEvent, WireRequest, WireResponse } from '../../preload/contract';

export type HostOptions = {
  core: Core;
  /** The built renderer (dist/renderer). */
  rendererDir: string;
  /** The page-side bridge script (dist/host/bridge.js). */
  bridgeFile: string;
  port?: number;
  token?: string;
  log?: (message: string) => void;
};

export type Host = { url: string; origin: string; token: string; port: number; close(): Promise<void> };

export const BRIDGE_PATH = '/heron-bridge.js';
const BRIDGE_MARKER = '<!-- heron:bridge -->';
const MAX_FRAME_BYTES = 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

function sameSecret(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Resolves a URL path inside `root`, or null when it would escape it. */
export function resolveStatic(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const file = path.resolve(root, `.${path.posix.normalize(decoded === '/' ? '/index.html' : decoded)}`);
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

/** True for a WebSocket upgrade from our own page with this run's token. */
export function admitUpgrade(request: { url?: string; headers: http.IncomingHttpHeaders }, origin: string, token: string): boolean {
  const url = new URL(request.url ?? '/', origin);
  return url.pathname === '/api' && request.headers.origin === origin && sameSecret(url.searchParams.get('token'), token);
}

export async function startHost(options: HostOptions): Promise<Host> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const rendererDir = path.resolve(options.rendererDir);
  const log = options.log ?? (() => {});
  let origin = '';
  let hostHeader = '';

  const server = http.createServer((request, response) => {
    // A page on another site that resolves its own name to 127.0.0.1 (DNS rebinding) sends
    // its own Host header: refuse it.
    if (request.headers.host !== hostHeader) {
      response.writeHead(421).end('wrong host');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const urlPath = new URL(request.url ?? '/', origin).pathname;
    const file = urlPath === BRIDGE_PATH ? options.bridgeFile : resolveStatic(rendererDir, urlPath);
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      response.writeHead(404).end('not found');
      return;
    }
    let body: Buffer | string = fs.readFileSync(file);
    if (path.basename(file) === 'index.html') {
      body = body.toString('utf8').replace(BRIDGE_MARKER, `<script src=".${BRIDGE_PATH}"></script>`);
    }
    response.writeHead(200, {
      'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  server.on('upgrade', (request, socket: Duplex, head) => {
    if (!admitUpgrade(request, origin, token)) {
      log(`refused a WebSocket from origin ${request.headers.origin ?? '(none)'}`);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => serve(ws));
  });

  const reply = (ws: WebSocket, frame: WireResponse) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  };

  function serve(ws: WebSocket): void {
    ws.on('message', async (data, isBinary) => {
      // Unchecked input until its id and command are seen to be what a WireRequest holds.
      let request: { [K in keyof WireRequest]?: unknown };
      try {
        if (isBinary) throw new Error('binary frame');
        request = JSON.parse(data.toString()) as typeof request;
      } catch {
        ws.close(1003, 'malformed frame');
        return;
      }
      if (typeof request.id !== 'number' || typeof request.command !== 'string') {
        ws.close(1003, 'malformed frame');
        return;
      }
      const id = request.id;
      try {
        const result = await options.core.handle(request.command, request.payload);
        reply(ws, { id, ok: true, result });
      } catch (error) {
        const failure = (error as { error?: CommandError }).error ?? { code: 'internal', message: 'Something went wrong.' };
        reply(ws, { id, ok: false, error: failure });
      }
    });
  }

  const unsubscribe = options.core.onEvent((event, payload) => {
    const frame = JSON.stringify({ event, payload } satisfies WireEvent);
    for (const ws of sockets.clients) if (ws.readyState === WebSocket.OPEN) ws.send(frame);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as import('node:net').AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  hostHeader = `127.0.0.1:${port}`;

  return {
    url: `${origin}/#token=${token}`,
    origin,
    token,
    port,
    async close() {
      unsubscribe();
      for (const ws of sockets.clients) ws.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
