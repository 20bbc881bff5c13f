// Chat states (XEP-0085): typing and the like. Parse the peer's state from what reaches us
// live; build the standalone notification we send. Chat states are of the moment: they are
// never stored, and what an archive (XEP-0313) returns of them is old news.
import xml, { type Element } from '@xmpp/xml';
import type { ChatState } from '../../../preload/contract';
import { NS_CARBONS, NS_DELAY, NS_FORWARD, NS_SID } from './chat';
import { NS_HINTS } from './markers';
import { parseJid } from './jid';

export const NS_CHAT_STATES = 'http://jabber.org/protocol/chatstates';
const STATES: readonly ChatState[] = ['active', 'composing', 'paused', 'inactive', 'gone'];
/**
 * What may ride along with a standalone notification: hints and ids. A function, not a constant:
 * chat.ts and this file import each other, and NS_SID is not yet set while this one loads first.
 */
const aloneWith = () => [NS_CHAT_STATES, NS_HINTS, NS_SID];

export type ParsedChatState =
  /** `alone`: the message carries nothing else (no body, no receipt): no other feature needs to see it. */
  | { kind: 'state'; peer: string; state: ChatState; alone: boolean }
  | { kind: 'none' }
  | { kind: 'ignored'; reason: string };

function stateOf(stanza: Element): ChatState | undefined {
  return stanza.getChildElements().find((el) => el.getNS() === NS_CHAT_STATES && STATES.includes(el.name as ChatState))?.name as ChatState | undefined;
}

/**
 * The peer's chat state in a message to us, or in a carbon of one they sent my other device.
 * What my own devices send (sent carbons, or directly from my own JID) says nothing about the
 * peer and is ignored; a carbon not from our own account is left to the chat parser to reject.
 */
export function parseChatState(stanza: Element, ownBareJid: string): ParsedChatState {
  if (!stanza.is('message')) return { kind: 'none' };
  const carbon = stanza.getChild('received', NS_CARBONS) ?? stanza.getChild('sent', NS_CARBONS);
  let message = stanza;
  if (carbon) {
    const inner = carbon.getChild('forwarded', NS_FORWARD)?.getChild('message');
    if (stanza.attrs.from !== ownBareJid || !inner || !stateOf(inner)) return { kind: 'none' };
    if (carbon.name === 'sent') return { kind: 'ignored', reason: 'a chat state my other device sent' };
    message = inner;
  }
  const state = stateOf(message);
  if (!state) return { kind: 'none' };
  if ((message.attrs.type ?? 'normal') !== 'chat') return { kind: 'ignored', reason: `chat state in a ${message.attrs.type ?? 'normal'} message` };
  const from = parseJid(message.attrs.from);
  if (!from) return { kind: 'ignored', reason: 'chat state with a malformed address' };
  if (from.bare === ownBareJid) return { kind: 'ignored', reason: 'a chat state of my own' };
  // Kept back for us while we were away (offline storage): whatever they were doing, they no longer are.
  if (message.getChild('delay', NS_DELAY)) return { kind: 'ignored', reason: 'a delayed chat state' };
  const riders = aloneWith();
  return { kind: 'state', peer: from.bare, state, alone: message.getChildElements().every((el) => riders.includes(el.getNS() ?? '')) };
}

/** A standalone notification: typed chat as XEP-0085 asks, never archived (XEP-0334). */
export function chatStateMessage(to: string, state: ChatState): Element {
  return xml('message', { type: 'chat', to }, xml(state, { xmlns: NS_CHAT_STATES }), xml('no-store', { xmlns: NS_HINTS }));
}

/** `<active/>`, which rides on every chat message we send. */
export const activeState = () => xml('active', { xmlns: NS_CHAT_STATES });
