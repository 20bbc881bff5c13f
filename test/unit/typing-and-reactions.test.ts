import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatState, MessageView } from '../../preload/contract';
import { PAUSE_AFTER_MS, TypingNotifier } from '../../renderer/src/lib/typing';
import { reactionNeedsLegacy, toggledReactions } from '../../renderer/src/lib/reactions';

describe('TypingNotifier', () => {
  let sent: ChatState[];
  let typing: TypingNotifier;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    typing = new TypingNotifier((s) => sent.push(s));
  });
  afterEach(() => vi.useRealTimers());

  it('sends composing once for a burst of keys, paused after the idle time, composing again on the next key', () => {
    for (const text of ['H', 'He', 'Hel', 'Hell']) typing.input(text);
    expect(sent).toEqual(['composing']);
    vi.advanceTimersByTime(PAUSE_AFTER_MS - 1);
    expect(sent).toEqual(['composing']);
    typing.input('Hello'); // a key restarts the idle time
    vi.advanceTimersByTime(PAUSE_AFTER_MS - 1);
    expect(sent).toEqual(['composing']);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual(['composing', 'paused']);
    typing.input('Hello!');
    expect(sent).toEqual(['composing', 'paused', 'composing']);
  });

  it('goes back to active when the message is sent or the text cleared, and no pause follows', () => {
    typing.input('Hi');
    typing.stop();
    vi.advanceTimersByTime(PAUSE_AFTER_MS * 2);
    expect(sent).toEqual(['composing', 'active']);
    typing.input('x');
    typing.input('  ');
    expect(sent).toEqual(['composing', 'active', 'composing', 'active']);
  });

  it('says nothing for a chat closed without typing, and inactive for one closed while typing', () => {
    typing.stop();
    typing.leave();
    expect(sent).toEqual([]);
    typing.input('Hi');
    typing.leave();
    vi.advanceTimersByTime(PAUSE_AFTER_MS * 2);
    expect(sent).toEqual(['composing', 'inactive']);
  });
});

/** One of bob's messages, as the window has it. */
const bobSaid = (more: Partial<MessageView>): MessageView => ({
  id: 1,
  conversationId: 1,
  accountId: 'a',
  direction: 'in',
  from: 'bob@heron.test',
  body: 'hi',
  ts: 0,
  state: 'received',
  ...more,
});

describe('toggledReactions', () => {
  const message = (reactions: MessageView['reactions']): MessageView => bobSaid({ reactions });
  const me = 'alice@heron.test';

  it('adds an emoji to my whole set, keeping my others and ignoring the peer’s', () => {
    const m = message([
      { emoji: '👍', from: [me, 'bob@heron.test'] },
      { emoji: '😂', from: ['bob@heron.test'] },
    ]);
    expect(toggledReactions(m, me, '😂')).toEqual(['👍', '😂']);
    expect(toggledReactions(m, me, '❤️')).toEqual(['👍', '❤️']);
  });

  it('takes back an emoji I chose; the last one leaves an empty set', () => {
    expect(toggledReactions(message([{ emoji: '👍', from: [me, 'bob@heron.test'] }]), me, '👍')).toEqual([]);
    expect(toggledReactions(message(undefined), me, '👍')).toEqual(['👍']);
  });
});

describe('reactionNeedsLegacy', () => {
  const message = (encryption?: 'omemo' | 'omemo2'): MessageView => bobSaid(encryption ? { encryption } : {});

  it('refuses a reaction only where OMEMO 0.3 would have to carry it', () => {
    expect(reactionNeedsLegacy(message(), 'omemo')).toBe(true);
    expect(reactionNeedsLegacy(message('omemo'), 'omemo2')).toBe(false);
    expect(reactionNeedsLegacy(message(), null)).toBe(false);
    // The chat is off (or not known yet): a reaction to an encrypted message is encrypted like it.
    expect(reactionNeedsLegacy(message('omemo'), null)).toBe(true);
    expect(reactionNeedsLegacy(message('omemo2'), undefined)).toBe(false);
  });
});
