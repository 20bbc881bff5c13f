// Ping, client state and version: the decisions they make, with a scripted clock and session.
import { EventEmitter } from 'node:events';
import parse from '@xmpp/xml/lib/parse.js';
import type { Element } from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import type { Archive } from '../../main/core/archive/archive';
import { CsiFeature } from '../../main/core/features/csi';
import type { Clock, FeatureContext } from '../../main/core/features/feature';
import { Hooks } from '../../main/core/features/hooks';
import { KeepaliveFeature } from '../../main/core/features/keepalive';
import type { Session } from '../../main/core/xmpp/session';
import { offersCsi } from '../../main/core/xmpp/csi';
import { mayAskVersion } from '../../main/core/xmpp/version';

/** A clock whose time only moves when the test says so. */
function manualClock() {
  let now = 0;
  let timers: Array<{ at: number; fn: () => void }> = [];
  const clock: Clock = {
    now: () => now,
    random: () => 0.5,
    setTimeout: (fn, ms) => {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return timer;
    },
    clearTimeout: (handle) => {
      timers = timers.filter((t) => t !== handle);
    },
  };
  const advance = async (ms: number) => {
    const until = now + ms;
    for (;;) {
      const next = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      timers = timers.filter((t) => t !== next);
      now = next.at;
      next.fn();
      await new Promise((r) => setImmediate(r));
    }
    now = until;
  };
  return { clock, advance };
}

function fakeSession(answer: (iq: Element, timeout: number) => Promise<Element>) {
  const entity = Object.assign(new EventEmitter(), {
    sent: [] as Element[],
    send: async (element: Element) => void entity.sent.push(element),
    socket: { destroyed: null as Error | null, destroy: (error: Error) => void (entity.socket.destroyed = error) },
  });
  const pings: Element[] = [];
  const session = {
    entity,
    iqCaller: {
      request: (iq: Element, timeout: number) => {
        pings.push(iq);
        return answer(iq, timeout);
      },
    },
  } as unknown as Session;
  return { session, entity, pings };
}

function context(clock: Clock, session?: Session): FeatureContext {
  return {
    accountId: 'a',
    bare: 'alice@heron.test',
    archive: {} as Archive,
    emit: () => {},
    log: () => {},
    clock,
    liveSession: () => session,
    hooks: new Hooks(() => {}),
  };
}

const timeout = () => Promise.reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' }));

describe('keepalive (XEP-0199)', () => {
  it('pings a server that fell silent, and drops the connection when the ping goes unanswered', async () => {
    const { clock, advance } = manualClock();
    const { session, entity, pings } = fakeSession(timeout);
    const keepalive = new KeepaliveFeature(context(clock), { idleMs: 1000, timeoutMs: 300 });
    keepalive.wire(session);
    await keepalive.online(session);

    await advance(999);
    expect(pings).toHaveLength(0);
    await advance(1);
    expect(pings).toHaveLength(1);
    expect(pings[0]!.attrs).toMatchObject({ type: 'get', to: 'heron.test' });
    expect(pings[0]!.getChild('ping', 'urn:xmpp:ping')).toBeDefined();
    expect(entity.socket.destroyed?.name).toBe('TimeoutError');
  });

  it('leaves a talking server alone, and counts an error answer as alive', async () => {
    const { clock, advance } = manualClock();
    const { session, entity, pings } = fakeSession(() => Promise.reject(Object.assign(new Error('no'), { name: 'StanzaError' })));
    const keepalive = new KeepaliveFeature(context(clock), { idleMs: 1000, timeoutMs: 300 });
    keepalive.wire(session);
    await keepalive.online(session);
    for (let i = 0; i < 5; i++) {
      await advance(600);
      entity.emit('element', parse('<a xmlns="urn:xmpp:sm:3" h="1"/>'));
    }
    expect(pings).toHaveLength(0);
    await advance(1000);
    expect(pings).toHaveLength(1);
    expect(entity.socket.destroyed).toBeNull();
    keepalive.offline();
    await advance(5000);
    expect(pings).toHaveLength(1);
  });
});

describe('client state indication (XEP-0352)', () => {
  const features = (csi: boolean) =>
    parse(`<stream:features xmlns:stream="http://etherx.jabber.org/streams">${csi ? '<csi xmlns="urn:xmpp:csi:0"/>' : ''}</stream:features>`);

  it('reads the offer from the stream features only', () => {
    expect(offersCsi(features(true))).toBe(true);
    expect(offersCsi(features(false))).toBe(false);
    expect(offersCsi(parse('<enabled xmlns="urn:xmpp:sm:3"/>'))).toBeNull();
  });

  it('tells the server only changes, starting from active, and nothing when it was not offered', async () => {
    const { clock } = manualClock();
    for (const offered of [true, false]) {
      const { session, entity } = fakeSession(timeout);
      const csi = new CsiFeature(context(clock, session));
      csi.wire(session);
      entity.emit('nonza', features(offered));
      csi.setActive(false); // hidden before the session is ready: said once it is
      await csi.ready(session);
      csi.setActive(false);
      csi.setActive(true);
      csi.setActive(true);
      await new Promise((r) => setImmediate(r));
      expect(entity.sent.map((e) => `${e.name}:${e.attrs.xmlns}`)).toEqual(offered ? ['inactive:urn:xmpp:csi:0', 'active:urn:xmpp:csi:0'] : []);
    }
  });
});

describe('software version (XEP-0092)', () => {
  const own = { bare: 'alice@heron.test', domain: 'heron.test' };
  // bob sees our presence (or we wrote to him); carol and mallory do not.
  const roster = (bare: string) => bare === 'bob@heron.test';

  it('answers our server, our own devices and those who may hear from us; not strangers', () => {
    expect(mayAskVersion(undefined, own, roster)).toBe(true);
    expect(mayAskVersion('heron.test', own, roster)).toBe(true);
    expect(mayAskVersion('alice@heron.test/phone', own, roster)).toBe(true);
    expect(mayAskVersion('bob@heron.test/laptop', own, roster)).toBe(true);
    expect(mayAskVersion('carol@heron.test/x', own, roster)).toBe(false);
    expect(mayAskVersion('mallory@evil.test/x', own, roster)).toBe(false);
    expect(mayAskVersion('other.test', own, roster)).toBe(false);
    expect(mayAskVersion('@@', own, roster)).toBe(false);
  });
});
