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
import { contentSecurityPolicy, rendererHeaders } from '../shell/renderer-serving';
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
  /** What local processes may ask of the running host (POST /control, with this run's token). */
  control?: HostControl;
};

/** The desktop shell's doings, reachable in the headless host from the command line and tests. */
export type HostControl = {
  /** An xmpp: link, as a second instance hands it over. */
  openUri(text: string): void;
  /** A click on the notice of a conversation, as a native notification reports it. */
  clickNotification(conversationId: number): void;
  /** What the notification policy decided so far. */
  notifications(): unknown;
  /** The event loop's longest delays since the previous ask (the benchmarks' main-process stall). */
  eventLoop(): unknown;
};

/** A control request: exactly one of these. */
export type ControlRequest = { openUri: string } | { clickNotification: number } | { notifications: true } | { eventLoop: true };
const MAX_CONTROL_BYTES = 16 * 1024;

export type Host = { url: string; origin: string; token: string; port: number; close(): Promise<void> };

export const BRIDGE_PATH = '/heron-bridge.js';
const BRIDGE_MARKER = '<!-- heron:bridge -->';
const MAX_FRAME_BYTES = 1024 * 1024;

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
    if (request.url === '/control' && request.method === 'POST') {
      serveControl(request, response);
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
    // The page reaches the core through this host's WebSocket: the one source added to the CSP.
    response.writeHead(200, rendererHeaders(file, contentSecurityPolicy([`ws://${hostHeader}`])));
    response.end(request.method === 'HEAD' ? undefined : body);
  });

  function serveControl(request: http.IncomingMessage, response: http.ServerResponse): void {
    const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? null;
    if (!options.control || !sameSecret(bearer, token)) {
      response.writeHead(403).end('forbidden');
      return;
    }
    const control = options.control;
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_CONTROL_BYTES) request.destroy();
    });
    request.on('end', () => {
      const answer = (status: number, body: unknown) => response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      let asked: Partial<Record<'openUri' | 'clickNotification' | 'notifications' | 'eventLoop', unknown>>;
      try {
        asked = JSON.parse(text) as typeof asked;
      } catch {
        answer(400, { error: 'not JSON' });
        return;
      }
      if (typeof asked.openUri === 'string') {
        control.openUri(asked.openUri);
        answer(200, { ok: true });
      } else if (typeof asked.clickNotification === 'number') {
        control.clickNotification(asked.clickNotification);
        answer(200, { ok: true });
      } else if (asked.notifications === true) {
        answer(200, control.notifications());
      } else if (asked.eventLoop === true) {
        answer(200, control.eventLoop());
      } else {
        answer(400, { error: 'unknown control request' });
      }
    });
  }

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

/** Sends a control request to the host running on `port` (a second instance, a test). */
export async function controlHost(port: number, token: string, request: ControlRequest): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}/control`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(request),
  });
  if (!response.ok) throw new Error(`the host refused the control request (${response.status})`);
  return response.json();
}
