// The block list (XEP-0191): whom this account blocks, as the server keeps it, and unblocking.
// Blocking itself is one of the answers to a request (features/requests.ts); the list is read
// from the server each time it is shown, so a block made on another device is there too.
import { ask } from '../xmpp/iq';
import { blocklistQuery, parseBlocklist, unblockQuery } from '../xmpp/subscriptions';
import { askServer, sessionFor } from './commands';
import type { FeatureContext, FeatureModule } from './feature';

export class BlocklistFeature {
  constructor(private readonly ctx: FeatureContext) {}

  /** The blocked JIDs, sorted. Needs the account online. */
  async list(): Promise<string[]> {
    const session = sessionFor(this.ctx);
    // Addressed to our own account: only our server may answer it (iq.ts checks the sender).
    const answer = await askServer('Could not load the block list', ask(session.iqCaller, 'get', this.ctx.bare, blocklistQuery(), { ownJids: [this.ctx.bare] }));
    return parseBlocklist(answer);
  }

  async unblock(jid: string): Promise<void> {
    const session = sessionFor(this.ctx);
    await askServer(`Could not unblock ${jid}`, ask(session.iqCaller, 'set', this.ctx.bare, unblockQuery(jid), { ownJids: [this.ctx.bare] }));
  }
}

export const blocklistModule: FeatureModule<BlocklistFeature> = {
  name: 'blocklist',
  create: (ctx) => new BlocklistFeature(ctx),
  commands: {
    'blocklist.list': ({ accountId }, scope) => scope.account(accountId).feature(blocklistModule).list(),
    'blocklist.unblock': async ({ accountId, jid }, scope) => {
      await scope.account(accountId).feature(blocklistModule).unblock(jid);
      return { accountId, jid };
    },
  },
};
