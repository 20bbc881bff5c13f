// Software version (XEP-0092): "Heron" and its version, to our server, our own account and
// contacts who see our presence anyway; never the operating system.
import { APP } from '../app-info';
import type { Session } from '../xmpp/session';
import { stanzaError } from '../xmpp/iq';
import { parseJid } from '../xmpp/jid';
import { NS_VERSION, mayAskVersion, versionAnswer } from '../xmpp/version';
import type { Feature, FeatureContext, FeatureModule } from './feature';
import { mayHearFromUs } from './audience';

export class VersionFeature implements Feature {
  readonly discoFeatures = [NS_VERSION];

  constructor(private readonly ctx: FeatureContext) {}

  wire(session: Session): void {
    session.iqCallee.get(NS_VERSION, 'query', ({ stanza }) => {
      const own = { bare: this.ctx.bare, domain: parseJid(this.ctx.bare)!.domain };
      if (!mayAskVersion(stanza.attrs.from, own, (bare) => mayHearFromUs(this.ctx.archive, this.ctx.accountId, bare))) {
        return stanzaError('cancel', 'service-unavailable');
      }
      return versionAnswer(APP.name, APP.version);
    });
  }
}

export const versionModule: FeatureModule<VersionFeature> = { name: 'version', create: (ctx) => new VersionFeature(ctx) };
