// Chat states (XEP-0085): the peer's typing shown, ours sent. Typing tells that we are here and
// reading, which is presence: it goes only to contacts who may hear from us (audience.ts), and
// a stranger's is not shown either. Never stored: a state is only true for the moment.
import type { ChatState } from '../../../preload/contract';
import type { Element } from '@xmpp/xml';
import { NS_CHAT_STATES, chatStateMessage, parseChatState } from '../xmpp/chat-states';
import { isMamResult } from '../xmpp/mam';
import { CommandFailure } from '../api';
import type { Feature, FeatureContext, FeatureModule } from './feature';
import { mayHearFromUs } from './audience';
import { discoModule, type DiscoFeature } from './disco';

export class ChatStatesFeature implements Feature {
  readonly discoFeatures = [NS_CHAT_STATES];

  constructor(
    private readonly ctx: FeatureContext,
    private readonly disco: DiscoFeature,
  ) {}

  /**
   * Announces the peer's state in a chat we have with them (never one a stranger waits in:
   * that is theirs to show once accepted). Takes the stanza only when the state is all it
   * carries; a message with a body goes on to chat.
   */
  stanza(stanza: Element): boolean {
    if (isMamResult(stanza)) return false;
    const parsed = parseChatState(stanza, this.ctx.bare);
    if (parsed.kind !== 'state') return false;
    const conversation = this.ctx.archive.conversations.find(this.ctx.accountId, parsed.peer);
    if (conversation && !conversation.request) {
      this.ctx.emit('chatState.changed', { conversationId: conversation.id, accountId: this.ctx.accountId, peer: parsed.peer, state: parsed.state });
    }
    return parsed.alone;
  }

  /**
   * Sends our state to the peer, if they may hear from us, their clients can use it (XEP-0085
   * §5.1: not to one whose every device says it does not) and we are online; otherwise it is
   * simply not said.
   */
  send(peer: string, state: ChatState): void {
    if (!mayHearFromUs(this.ctx.archive, this.ctx.accountId, peer) || this.disco.noDeviceSupports(peer, NS_CHAT_STATES)) return;
    const session = this.ctx.liveSession();
    if (session) void session.entity.send(chatStateMessage(peer, state)).catch(() => {});
  }
}

export const chatStatesModule: FeatureModule<ChatStatesFeature> = {
  name: 'chat-states',
  create: (ctx, account) => new ChatStatesFeature(ctx, account.use(discoModule)),
  events: ['chatState.changed'],
  commands: {
    'chatStates.send': ({ conversationId, state }, scope) => {
      const conversation = scope.archive.conversations.get(conversationId);
      const account = scope.findAccount(conversation.accountId);
      if (!account) throw new CommandFailure('not-found', 'The account of this chat was removed.');
      account.feature(chatStatesModule).send(conversation.peer, state);
      return { conversationId };
    },
  },
};
