// The xmpp.js internals Heron relies on (main/core/xmpp/xmppjs-adapter.ts), checked against the
// installed library: this fails when an upgrade moved or changed one of them, before anything
// subtler breaks at run time. On failure: read the new release's source, then adapt the adapter.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '@xmpp/client-core';
import xml, { Parser } from '@xmpp/xml';
import middlewareFactory from '@xmpp/middleware';
import streamFeaturesFactory from '@xmpp/stream-features';
import streamManagementFactory from '@xmpp/stream-management';
import iqCallerFactory from '@xmpp/iq/caller.js';
import {
  destroySocket,
  directTlsTransport,
  endSocket,
  interceptSeeOtherHost,
  plainSocket,
  plainTransport,
  replaceSocket,
  settleEarlyAnswers,
  unacknowledged,
  XMPPJS_VERSION,
} from '../../main/core/xmpp/xmppjs-adapter';

const PACKAGES = ['client-core', 'connection', 'connection-tcp', 'tcp', 'tls', 'stream-management', 'middleware', 'xml'];

class FakeSocket extends EventEmitter {
  secure = false;
  written: string[] = [];
  ended = false;
  destroyedWith: Error | undefined | null = null;
  connect(): void {}
  write(data: string, callback?: (error?: Error | null) => void): void {
    this.written.push(data);
    callback?.();
  }
  end(): void {
    this.ended = true;
  }
  destroy(error?: Error): void {
    this.destroyedWith = error;
  }
}

const newClient = () => {
  const entity = new Client({ service: 'xmpp://127.0.0.1:1', domain: 'heron.test' });
  entity.on('error', () => {});
  return entity;
};

describe('xmpp.js internals behind the adapter', () => {
  it(`are those of xmpp.js ${XMPPJS_VERSION}, the release the adapter was written against`, () => {
    const require = createRequire(import.meta.url);
    for (const name of PACKAGES) {
      const main = require.resolve(`@xmpp/${name}`);
      const manifest = path.join(main.slice(0, main.lastIndexOf(`${path.sep}@xmpp${path.sep}${name}${path.sep}`)), '@xmpp', name, 'package.json');
      expect(JSON.parse(fs.readFileSync(manifest, 'utf8')).version, `@xmpp/${name}`).toBe(XMPPJS_VERSION);
    }
  });

  it('transports: the connection takes its parser and socket classes from the transport it picks', async () => {
    class OurParser extends Parser {}
    const entity = newClient();
    const Plain = plainTransport(OurParser);
    const Direct = directTlsTransport(OurParser, FakeSocket, { servername: 'heron.test' });
    entity.transports.push(Plain, Direct);
    expect(Plain.prototype.socketParameters('xmpp://example.org:5299')).toEqual({ host: 'example.org', port: 5299 });
    expect(Plain.prototype.socketParameters('xmpps://example.org:5223')).toBeUndefined();
    expect(Direct.prototype.socketParameters('xmpps://example.org:5223')).toEqual({ host: 'example.org', port: 5223, servername: 'heron.test' });
    expect((Plain.prototype as unknown as { NS: string }).NS).toBe('jabber:client');
    const connected = entity.connect('xmpps://127.0.0.1:5223');
    const internals = entity as unknown as { Parser: unknown; Socket: unknown };
    expect([internals.Parser, internals.Socket]).toEqual([OurParser, FakeSocket]);
    const socket = plainSocket(entity) as unknown as FakeSocket;
    expect(socket).toBeInstanceOf(FakeSocket);
    socket.emit('connect');
    await connected;
  });

  it('sockets: one can be swapped in (STARTTLS), and ended or destroyed under its wrapper', () => {
    const entity = newClient();
    const socket = new FakeSocket();
    replaceSocket(entity, socket);
    expect(plainSocket(entity) as unknown).toBe(socket);
    socket.secure = true;
    expect(entity.isSecure()).toBe(true);
    const disconnected = new Promise((resolve) => entity.once('disconnect', resolve));
    const error = new Error('gone');
    destroySocket(entity, error);
    expect(socket.destroyedWith).toBe(error);
    endSocket(entity, 10_000);
    expect(socket.ended).toBe(true);
    socket.emit('close');
    return disconnected;
  });

  it('a wrapped socket (ours for TLS) is destroyed underneath', () => {
    const entity = newClient();
    const inner = new FakeSocket();
    replaceSocket(entity, Object.assign(new FakeSocket(), { socket: inner }));
    destroySocket(entity);
    expect(inner.destroyedWith).toBeUndefined();
  });

  it('iq caller: an error answer that arrives while our request is still being written is no unhandled rejection', async () => {
    const entity = newClient();
    const middleware = middlewareFactory({ entity });
    const iqCaller = iqCallerFactory({ middleware, entity });
    settleEarlyAnswers(iqCaller);
    let written!: () => void;
    entity.send = () => new Promise<void>((resolve) => (written = resolve));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const asked = iqCaller.request(xml('iq', { type: 'get', id: 'q1', to: 'room@conference.heron.test' }, xml('query', { xmlns: 'urn:x' })));
      // The room's refusal, through the middleware, before the write has finished.
      const refusal = xml('iq', { type: 'error', id: 'q1', from: 'room@conference.heron.test' }, xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })));
      entity.emit('element', refusal);
      await new Promise((resolve) => setTimeout(resolve, 10));
      written();
      await expect(asked).rejects.toMatchObject({ condition: 'item-not-found' });
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('stream management: what was sent and not acknowledged is listed, oldest first', async () => {
    const entity = newClient();
    const middleware = middlewareFactory({ entity });
    const sm = streamManagementFactory({ entity, middleware, streamFeatures: streamFeaturesFactory({ middleware }) });
    sm.enabled = true;
    const [first, second] = [xml('message', { id: 'm1', to: 'bob@heron.test' }), xml('message', { id: 'm2', to: 'bob@heron.test' })];
    // What xmpp.js's send emits once a stanza is written.
    entity.emit('send', first);
    entity.emit('send', second);
    expect(unacknowledged(sm)).toEqual([first, second]);
    entity.emit('disconnect');
  });

  it('see-other-host reaches our handler, and xmpp.js does not reconnect by itself', async () => {
    const entity = newClient();
    const socket = new FakeSocket();
    const Plain = plainTransport(Parser);
    Object.assign(entity, { Transport: Plain, Parser });
    replaceSocket(entity, socket);
    const redirects: string[] = [];
    interceptSeeOtherHost(entity, (host) => redirects.push(host));
    let connects = 0;
    entity.on('connecting', () => connects++);
    const opened = entity.open({ domain: 'heron.test' });
    // The header goes out first; xmpp.js listens for the server's once it is written.
    await new Promise((resolve) => setImmediate(resolve));
    expect(socket.written.join('')).toContain('<stream:stream');
    socket.emit(
      'data',
      Buffer.from(
        `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='heron.test' id='s1'>` +
          `<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>node2.heron.test:5299</see-other-host></stream:error>`,
      ),
    );
    await opened;
    expect(redirects).toEqual(['node2.heron.test:5299']);
    socket.emit('close');
    await new Promise((resolve) => setImmediate(resolve));
    expect(connects).toBe(0);
  });
});
