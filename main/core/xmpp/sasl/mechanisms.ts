// Which SASL mechanism to log in with, from what the server offers (RFC 6120 §6.4.1) and what
// this account has done before. Pure: the offer is parsed from the features element, the
// TLS channel is an interface.
import type { Element } from '@xmpp/xml';
import { BINDING_PREFERENCE, bindingData, type BindingType, type TlsChannel } from './channel-binding';
import type { Gs2Binding, ScramHash } from './scram';

export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_SASL_CB = 'urn:xmpp:sasl-cb:0';
const NS_STREAMS = 'http://etherx.jabber.org/streams';

export type Offer = {
  mechanisms: string[];
  /** XEP-0440: the channel-binding types the server announced; null when it announced none. */
  bindings: string[] | null;
};

/** Mechanisms and announced binding types from `<stream:features/>`. */
export function parseOffer(features: Element): Offer {
  const mechanisms = features.getChild('mechanisms', NS_SASL);
  const names = (mechanisms?.getChildren('mechanism', NS_SASL) ?? []).map((m) => m.text().trim()).filter(Boolean);
  // XEP-0440 0.4+ puts the announcement beside <mechanisms/>; earlier drafts put it inside.
  const announcement =
    (features.is('features', NS_STREAMS) ? features.getChild('sasl-channel-binding', NS_SASL_CB) : undefined) ??
    mechanisms?.getChild('sasl-channel-binding', NS_SASL_CB);
  const bindings = announcement ? announcement.getChildren('channel-binding').map((b) => String(b.attrs.type ?? '')) : null;
  return { mechanisms: names, bindings };
}

export type SaslPolicy = {
  /**
   * PLAIN may be used: the account never logged in with SCRAM, or the user allowed PLAIN
   * after Heron refused it. Once SCRAM worked, a server that suddenly offers only PLAIN is
   * what a man in the middle would do to read the password.
   */
  allowPlain: boolean;
};

export type Login =
  | { kind: 'scram'; mechanism: string; hash: ScramHash; binding: Gs2Binding }
  | { kind: 'plain'; mechanism: 'PLAIN' };

/** Raised when the only way to log in would be PLAIN, for an account that logged in with SCRAM before. */
export class PlainRefusedError extends Error {
  constructor() {
    super(
      'The server now offers only a login that shows it your password (PLAIN), although this account ' +
        'used a safer one (SCRAM) before. Someone may be intercepting the connection. Allow it only if your provider changed its setup.',
    );
    this.name = 'PlainRefusedError';
  }
}

export class NoMechanismError extends Error {
  constructor(offered: string[]) {
    super(`The server offers no login method Heron supports (${offered.join(', ') || 'none'}).`);
    this.name = 'NoMechanismError';
  }
}

const HASHES: readonly ScramHash[] = ['SHA-256', 'SHA-1'];

/**
 * The binding to use with a -PLUS mechanism: the first type we prefer that the server
 * announced and Node can produce. A server that announces none predates XEP-0440 and means
 * tls-unique (RFC 5929): used on TLS 1.2; on TLS 1.3, where it is undefined (RFC 9266), no
 * binding. Guessing tls-exporter there fails the login: ejabberd 23.01 offers -PLUS on TLS 1.3
 * and accepts only tls-unique ("Invalid channel binding").
 */
function chooseBinding(offer: Offer, channel: TlsChannel): Gs2Binding | undefined {
  const candidates: readonly string[] = offer.bindings ?? (channel.protocol === 'TLSv1.2' ? ['tls-unique'] : []);
  for (const type of BINDING_PREFERENCE) {
    if (!candidates.includes(type)) continue;
    const data = bindingData(type as BindingType, channel);
    if (data) return { flag: 'p', type, data };
  }
  return undefined;
}

/**
 * Channel-bound SCRAM first (SHA-256, then SHA-1), then SCRAM (SHA-256, then SHA-1), then
 * PLAIN where the policy allows it. Without -PLUS on offer the gs2 flag says `y` (RFC 5802
 * §6: we could have bound), so a server that did offer -PLUS sees the downgrade; with -PLUS on
 * offer but no binding we can produce, `n`, as the server would refuse `y`.
 */
export function chooseLogin(offer: Offer, channel: TlsChannel | undefined, policy: SaslPolicy): Login {
  const offered = new Set(offer.mechanisms);
  const plusOffered = offer.mechanisms.some((m) => m.endsWith('-PLUS'));
  const binding = channel && chooseBinding(offer, channel);
  if (binding) {
    for (const hash of HASHES) {
      if (offered.has(`SCRAM-${hash}-PLUS`)) return { kind: 'scram', mechanism: `SCRAM-${hash}-PLUS`, hash, binding };
    }
  }
  for (const hash of HASHES) {
    if (!offered.has(`SCRAM-${hash}`)) continue;
    const flag = plusOffered || !channel ? 'n' : 'y';
    return { kind: 'scram', mechanism: `SCRAM-${hash}`, hash, binding: { flag } };
  }
  if (offered.has('PLAIN')) {
    // Only ever over TLS (the session refuses a stream without it before SASL).
    if (!channel) throw new NoMechanismError(offer.mechanisms);
    if (!policy.allowPlain) throw new PlainRefusedError();
    return { kind: 'plain', mechanism: 'PLAIN' };
  }
  throw new NoMechanismError(offer.mechanisms);
}
