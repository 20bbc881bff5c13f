// SASL on an xmpp.js stream (RFC 6120 §6) with our own mechanisms (./scram, ./mechanisms):
// takes the server's <mechanisms/> feature, logs in, and restarts the stream. Replaces
// @xmpp/sasl, which neither checks the server's proof nor reads <success/> data.
import { randomBytes } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';
import type { Client } from '@xmpp/client-core';
import type { StreamFeatures } from '@xmpp/stream-features';
import type { TlsChannel } from './channel-binding';
import { NS_SASL, chooseLogin, parseOffer, type Login, type SaslPolicy } from './mechanisms';
import { ScramClient, ScramError } from './scram';
import { tlsSocket } from '../xmppjs-adapter';

export { PlainRefusedError, NoMechanismError } from './mechanisms';
export { ScramError } from './scram';

/** What an account allows and remembers about logging in; asked on every stream, as it may change. */
export type SaslAccount = {
  policy(): SaslPolicy;
  /** The server accepted the login and, for SCRAM, proved it knows the password. */
  authenticated(mechanism: string): void;
};

export type SaslOptions = {
  username: string;
  password: () => Promise<string>;
  account: SaslAccount;
  /** Our SCRAM nonce; random unless a test replays a known exchange. */
  nonce?: () => string;
};

/** The server's <failure/> (RFC 6120 §6.5): named SASLError, as accounts/failures.ts expects. */
export class SaslFailure extends Error {
  constructor(
    readonly condition: string,
    readonly text: string,
  ) {
    super(condition + (text ? ` - ${text}` : ''));
    this.name = 'SASLError';
  }

  static fromElement(failure: Element): SaslFailure {
    const condition = failure.getChildElements().find((child) => child.name !== 'text')?.name ?? 'not-authorized';
    return new SaslFailure(condition, failure.getChildText('text') ?? '');
  }
}

/** What channel binding needs of the TLS session under the stream. */
export function tlsChannelOf(entity: Client): TlsChannel | undefined {
  const socket = tlsSocket(entity);
  if (!socket || !entity.isSecure()) return undefined;
  return {
    protocol: socket.getProtocol(),
    // RFC 9266 §2: a zero-length context (the same as none in TLS 1.3).
    exportKeyingMaterial: (length, label) => socket.exportKeyingMaterial(length, label, Buffer.alloc(0)),
    finished: () => (socket.isSessionReused() ? socket.getPeerFinished() : socket.getFinished()),
    certificate: () => socket.getPeerX509Certificate()?.raw,
  };
}

const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** The SASL elements the server sends, one at a time, in order; an error or a lost stream ends the wait. */
function saslElements(entity: Client) {
  const queue: Element[] = [];
  let wake: (() => void) | undefined;
  let ended: Error | undefined;
  const onNonza = (element: Element) => {
    if (element.attrs.xmlns !== NS_SASL) return;
    queue.push(element);
    wake?.();
  };
  const onEnd = (error?: Error) => {
    ended ??= error instanceof Error ? error : new Error('The connection closed during the login.');
    wake?.();
  };
  const onDisconnect = () => onEnd();
  entity.on('nonza', onNonza);
  entity.on('error', onEnd);
  entity.on('disconnect', onDisconnect);
  return {
    async next(): Promise<Element> {
      while (!queue.length) {
        if (ended) throw ended;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      return queue.shift()!;
    },
    close() {
      entity.off('nonza', onNonza);
      entity.off('error', onEnd);
      entity.off('disconnect', onDisconnect);
    },
  };
}

const decode = (element: Element) => Buffer.from(element.text().trim(), 'base64').toString('utf8');

/** The server's verdict: <success/> (returned), <failure/> (thrown as it said), anything else (thrown). */
function outcome(answer: Element, after: string): Element {
  if (answer.is('failure')) throw SaslFailure.fromElement(answer);
  if (!answer.is('success')) throw new ScramError(`The server answered ${after} with <${answer.name}/>.`);
  return answer;
}

async function exchange(entity: Client, login: Login, options: SaslOptions): Promise<void> {
  const password = await options.password();
  const incoming = saslElements(entity);
  try {
    if (login.kind === 'plain') {
      // RFC 4616: no authorization identity.
      await entity.send(xml('auth', { xmlns: NS_SASL, mechanism: login.mechanism }, encode(`\0${options.username}\0${password}`)));
      outcome(await incoming.next(), 'the login');
      return;
    }
    const scram = new ScramClient(login.hash, options.username, password, login.binding, options.nonce?.() ?? randomBytes(24).toString('base64'));
    await entity.send(xml('auth', { xmlns: NS_SASL, mechanism: login.mechanism }, encode(scram.first())));
    const challenge = await incoming.next();
    if (!challenge.is('challenge')) {
      outcome(challenge, 'the SCRAM login');
      throw new ScramError('The server accepted the login without checking the password: someone may be intercepting the connection.');
    }
    await entity.send(xml('response', { xmlns: NS_SASL }, encode(await scram.final(decode(challenge)))));
    // RFC 6120 §6.3.10: the server's proof comes as <success/> data, or in a last challenge
    // answered with an empty response before an empty <success/>.
    const answer = await incoming.next();
    if (answer.is('challenge')) {
      scram.verify(decode(answer));
      await entity.send(xml('response', { xmlns: NS_SASL }));
      outcome(await incoming.next(), 'the SCRAM proof');
      return;
    }
    const data = outcome(answer, 'the SCRAM proof').text().trim();
    // "=" is how RFC 6120 §6.4.6 writes empty additional data.
    if (!data || data === '=') {
      throw new ScramError('The server accepted the login without proving it knows your password: someone may be intercepting the connection.');
    }
    scram.verify(decode(answer));
  } finally {
    incoming.close();
  }
}

/** Registers the login on the stream features: first the mechanisms, then (by order) binding. */
export function useSasl({ streamFeatures, entity }: { streamFeatures: StreamFeatures; entity: Client }, options: SaslOptions): void {
  streamFeatures.use('mechanisms', NS_SASL, async ({ stanza }: { stanza: Element }) => {
    const login = chooseLogin(parseOffer(stanza), tlsChannelOf(entity), options.account.policy());
    await exchange(entity, login, options);
    options.account.authenticated(login.mechanism);
    await entity.restart();
  });
}
