// My reactions to a message (XEP-0444): the protocol sends my whole set each time.
import type { MessageView } from '../../../preload/contract';

/** My set of reactions to `m` after toggling `emoji` (added if absent, removed if present). */
export function toggledReactions(m: MessageView, me: string, emoji: string): string[] {
  const mine = (m.reactions ?? []).filter((r) => r.from.includes(me)).map((r) => r.emoji);
  return mine.includes(emoji) ? mine.filter((e) => e !== emoji) : [...mine, emoji];
}

/**
 * Whether a reaction to `m` would have to be encrypted with OMEMO 0.3, which encrypts a
 * message's text and nothing else: the core refuses it rather than send it in clear.
 * `chat`: the chat's encryption now (undefined until known); off, the message's own counts.
 */
export function reactionNeedsLegacy(m: MessageView, chat: 'omemo' | 'omemo2' | null | undefined): boolean {
  return (chat ?? m.encryption) === 'omemo';
}
