// Displayed markers (XEP-0333). Our messages ask for them; when the user reads a chat we send
// one for the newest message that asked (only to a contact who may hear from us, see
// audience.ts, whose client can use it, and while the user's setting allows) and publish the read position for my other devices (mds.ts). A
// marker that arrives moves state by who sent it: from the peer, our messages up to it become
// read; from one of my own devices (a sent carbon or our archive), the chat is read up to it
// here too.
import { randomUUID } from 'node:crypto';
import type { ConversationView, MessageView } from '../../../preload/contract';
import type { Archive } from '../archive/archive';
import { readSettings } from '../settings';
import { NS_MARKERS, displayedMarker } from '../xmpp/markers';
import type { Feature, FeatureContext, FeatureModule } from './feature';
import { mdsModule, type MdsFeature } from './mds';
import { discoModule, type DiscoFeature } from './disco';
import { mayHearFromUs } from './audience';

export type DisplayedMarker = { peer: string; messageId: string; direction: 'in' | 'out' };

/** Applies one marker to the archive: messages that became read, or the conversation whose unread count fell. */
export function applyDisplayed(archive: Pick<Archive, 'messages'>, accountId: string, marker: DisplayedMarker): { read: MessageView[]; conversation?: ConversationView } {
  if (marker.direction === 'in') return { read: archive.messages.readOutgoingUpTo(accountId, marker.peer, marker.messageId) };
  const conversation = archive.messages.readIncomingUpTo(accountId, marker.peer, { messageId: marker.messageId });
  return { read: [], ...(conversation ? { conversation } : {}) };
}

export class MarkersFeature implements Feature {
  readonly discoFeatures = [NS_MARKERS];

  constructor(
    private readonly ctx: FeatureContext,
    private readonly mds: MdsFeature,
    private readonly disco: DiscoFeature,
  ) {}

  /** A marker that arrived live or as a carbon: applied, then announced. */
  receive(marker: DisplayedMarker): void {
    const { read, conversation } = applyDisplayed(this.ctx.archive, this.ctx.accountId, marker);
    for (const message of read) this.ctx.emit('message.updated', message);
    if (conversation) this.ctx.emit('conversation.changed', conversation);
  }

  /** The user has seen the chat: nothing in it is unread any more, and the peer and my devices hear of it. */
  markRead(conversationId: number): ConversationView {
    const { archive, accountId } = this.ctx;
    const before = archive.conversations.get(conversationId);
    // Only what was unread is news to anyone; a chat read before sends nothing again.
    const seen = before.unread > 0 ? archive.messages.recentIncoming(conversationId, before.unread) : [];
    const conversation = archive.conversations.markRead(conversationId);
    const session = this.ctx.liveSession();
    if (!session || seen.length === 0) return conversation;
    const markable = seen.find((m) => m.markable && m.messageId);
    // The read-markers setting is about what the contact learns; my own devices still hear (MDS below).
    if (markable && readSettings(archive).sendReadMarkers && mayHearFromUs(archive, accountId, before.peer) && !this.cannotUseMarkers(before.peer)) {
      session.entity.send(displayedMarker(before.peer, randomUUID(), markable.messageId!)).catch((error: Error) =>
        this.ctx.log('warn', `${this.ctx.bare}: could not send a displayed marker: ${error.message}`),
      );
    }
    const archived = seen.find((m) => m.stanzaId);
    if (archived) void this.mds.publish(session, { peer: before.peer, stanzaId: archived.stanzaId! });
    return conversation;
  }

  /** XEP-0333 §4.2: a contact every one of whose online devices says it does not support markers gets none. */
  private cannotUseMarkers(peer: string): boolean {
    const devices = this.disco.devicesOf(peer);
    return devices.length > 0 && devices.every((features) => features !== undefined && !features.includes(NS_MARKERS));
  }
}

export const markersModule: FeatureModule<MarkersFeature> = {
  name: 'markers',
  create: (ctx, account) => new MarkersFeature(ctx, account.use(mdsModule), account.use(discoModule)),
  events: ['message.updated', 'conversation.changed'],
  commands: {
    'conversations.markRead': ({ conversationId }, scope) => {
      const conversation = scope.account(scope.archive.conversations.get(conversationId).accountId).feature(markersModule).markRead(conversationId);
      scope.emit('conversation.changed', conversation);
      return conversation;
    },
  },
};
