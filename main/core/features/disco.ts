// Service discovery and entity capabilities (XEP-0030, XEP-0115): we answer disco#info with
// our identity and what our features advertise, and put the matching caps hash in our
// presence; on connect we learn what our server and our account offer; and we learn a
// contact's features from the caps in their presence, asking once per client version,
// verifying the answer against its hash, and keeping it in the archive's caps cache.
import type { Element } from '@xmpp/xml';
import { APP } from '../app-info';
import type { Session } from '../xmpp/session';
import { ask, stanzaError } from '../xmpp/iq';
import { parseJid } from '../xmpp/jid';
import {
  NS_CAPS,
  NS_DISCO_INFO,
  capsElement,
  capsHash,
  discoInfoAnswer,
  discoInfoQuery,
  parseCaps,
  parseDiscoInfo,
  type Caps,
  type DiscoInfo,
} from '../xmpp/disco';
import type { Feature, FeatureContext, FeatureModule } from './feature';
import { isContact } from './audience';

const QUERY_TIMEOUT_MS = 20_000;

export class DiscoFeature implements Feature {
  readonly discoFeatures = [NS_DISCO_INFO, NS_CAPS];
  /** What our server offers (disco#info of its domain); empty until learnt on connect. */
  server: ReadonlySet<string> = new Set();
  /** What our own bare JID offers (PEP and its options live here); undefined until learnt. */
  account: DiscoInfo | undefined;
  private own: { info: DiscoInfo; caps: Caps } | undefined;
  /** Caps key (node#ver) of each contact device online now, by full JID. */
  private readonly devices = new Map<string, string>();
  private readonly learning = new Set<string>();
  private readonly domain: string;

  constructor(
    private readonly ctx: FeatureContext,
    /** Everything the account's features advertise. */
    private readonly advertised: () => readonly string[],
  ) {
    this.domain = parseJid(ctx.bare)!.domain;
  }

  /** Our `<c/>`, carried by every presence we send. */
  caps(): Element {
    return capsElement(this.ours().caps);
  }

  /** What each online device of a contact (bare JID) supports; undefined where not (yet) known. */
  devicesOf(bare: string): Array<readonly string[] | undefined> {
    return [...this.devices]
      .filter(([full]) => parseJid(full)?.bare === bare)
      .map(([, key]) => this.ctx.archive.caches.getCaps(key)?.features);
  }

  /** Whether a contact has devices online and every one of them says it does not support `feature`. */
  noDeviceSupports(bare: string, feature: string): boolean {
    const devices = this.devicesOf(bare);
    return devices.length > 0 && devices.every((features) => features !== undefined && !features.includes(feature));
  }

  wire(session: Session): void {
    session.iqCallee.get(NS_DISCO_INFO, 'query', ({ stanza }) => {
      const { info, caps } = this.ours();
      const node = stanza.getChild('query', NS_DISCO_INFO)?.attrs.node;
      // The bare query and the one for our caps node get the same answer; we have no other nodes.
      if (node !== undefined && node !== `${caps.node}#${caps.ver}`) {
        return stanzaError('cancel', 'item-not-found');
      }
      return discoInfoAnswer(info, node);
    });
  }

  async ready(session: Session): Promise<void> {
    const [server, account] = await Promise.all([this.info(session, this.domain), this.info(session, this.ctx.bare)]);
    this.server = new Set(server?.features ?? []);
    this.account = account;
  }

  /** Notes a contact device's caps; never consumes the presence. */
  stanza(stanza: Element, session: Session): boolean {
    if (!stanza.is('presence')) return false;
    const from = parseJid(stanza.attrs.from);
    // Our own presence comes back to us; what we support we know.
    if (!from?.resource || from.full === session.entity.jid?.toString()) return false;
    // Strangers' devices are neither noted nor asked: their caps would only fill the cache.
    if (from.bare !== this.ctx.bare && !isContact(this.ctx.archive, this.ctx.accountId, from.bare)) return false;
    const type = stanza.attrs.type;
    if (type === 'unavailable') this.devices.delete(from.full);
    const caps = type === undefined ? parseCaps(stanza) : undefined;
    // A presence without caps leaves what we knew (XEP-0115 §8.4: clients may omit unchanged caps).
    if (!caps) return false;
    const key = `${caps.node}#${caps.ver}`;
    this.devices.set(from.full, key);
    if (!this.learning.has(key) && !this.ctx.archive.caches.getCaps(key)) void this.learn(session, from.full, caps.ver, key);
    return false;
  }

  offline(): void {
    this.devices.clear();
    this.server = new Set();
    this.account = undefined;
  }

  private ours(): { info: DiscoInfo; caps: Caps } {
    if (!this.own) {
      const info: DiscoInfo = {
        identities: [{ category: 'client', type: 'pc', name: APP.name }],
        features: [...new Set(this.advertised())],
        forms: [],
      };
      this.own = { info, caps: { node: APP.node, ver: capsHash(info) } };
    }
    return this.own;
  }

  private async info(session: Session, jid: string): Promise<DiscoInfo | undefined> {
    try {
      const parsed = parseDiscoInfo(await ask(session.iqCaller, 'get', jid, discoInfoQuery(), { ownJids: [this.domain, this.ctx.bare], timeoutMs: QUERY_TIMEOUT_MS }));
      if (parsed.kind === 'rejected') throw new Error(parsed.reason);
      return parsed.info;
    } catch (error) {
      this.ctx.log('info', `${this.ctx.bare}: no service discovery for ${jid}: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** Asks one device for the features behind a caps version; caches them only if they hash to it. */
  private async learn(session: Session, jid: string, ver: string, key: string): Promise<void> {
    this.learning.add(key);
    try {
      const parsed = parseDiscoInfo(await ask(session.iqCaller, 'get', jid, discoInfoQuery(key), { ownJids: [], timeoutMs: QUERY_TIMEOUT_MS }));
      if (parsed.kind === 'rejected') throw new Error(parsed.reason);
      if (capsHash(parsed.info) !== ver) throw new Error('its features do not match the hash it advertised');
      this.ctx.archive.caches.putCaps(key, { identities: parsed.info.identities, features: parsed.info.features });
    } catch (error) {
      this.ctx.log('info', `${this.ctx.bare}: capabilities of ${jid} not learnt: ${(error as Error).message}`);
    } finally {
      this.learning.delete(key);
    }
  }
}

export const discoModule: FeatureModule<DiscoFeature> = {
  name: 'disco',
  create: (ctx, account) => {
    const disco = new DiscoFeature(ctx, account.advertised);
    ctx.hooks.provide('presence.extensions', () => disco.caps());
    return disco;
  },
};
