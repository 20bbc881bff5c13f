// The composer's text logic: `:shortcode:` completion, plain-text paste, the emoji search,
// and the quick switcher's fuzzy filter.
import { describe, expect, it } from 'vitest';
import { applyShortcode, completedShortcode, insertAt, pastedText, sendsMessage, shortcodeAt, shortcodeMatches } from '../../renderer/src/lib/shortcodes';
import { EMOJI, searchEmoji } from '../../renderer/src/lib/emoji';
import { fuzzyFilter, fuzzyMatch } from '../../renderer/src/lib/fuzzy';

describe('shortcode completion', () => {
  it('offers matches for a colon and two letters before the caret', () => {
    const text = 'hello :smi';
    const at = shortcodeAt(text, text.length);
    expect(at).toEqual({ start: 6, end: 10, query: 'smi' });
    const codes = shortcodeMatches(at!.query).map((e) => e.code);
    expect(codes[0]).toBe('smile');
    expect(codes).toContain('smiley');
    expect(codes.length).toBeLessThanOrEqual(8);
  });

  it('is not triggered by times, links, a lone colon or a colon inside a word', () => {
    for (const text of ['at 10:30', 'see https://x', 'note:', 'a :', 'word:sm', ':s']) expect(shortcodeAt(text, text.length), text).toBeNull();
  });

  it('looks only at what is before the caret', () => {
    const text = ':thu and more';
    expect(shortcodeAt(text, 4)).toEqual({ start: 0, end: 4, query: 'thu' });
    expect(shortcodeAt(text, text.length)).toBeNull();
  });

  it('replaces the typed code with the emoji and a space, keeping the rest', () => {
    const text = 'ok :thu later';
    const at = shortcodeAt(text, 7)!;
    const thumbs = EMOJI.find((e) => e.code === 'thumbsup')!;
    expect(applyShortcode(text, at, thumbs)).toEqual({ text: 'ok 👍  later', caret: 6 });
  });

  it('turns a complete known :code: into its emoji, and leaves unknown ones as typed', () => {
    expect(completedShortcode('yes :tada:', 10)).toEqual({ text: 'yes 🎉', caret: 6 });
    expect(completedShortcode('yes :nosuchthing:', 17)).toBeNull();
    expect(completedShortcode('ratio 1:2:', 10)).toBeNull();
  });
});

describe('emoji search', () => {
  it('finds by any word of the name or the shortcode, case-insensitively', () => {
    expect(searchEmoji('HEART').map((e) => e.char)).toContain('❤️');
    expect(searchEmoji('tears joy').map((e) => e.code)).toEqual(['joy']);
    expect(searchEmoji('zzzzqqq')).toEqual([]);
  });

  it('has each shortcode once', () => {
    const codes = EMOJI.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe('which key sends', () => {
  const press = (mods: Partial<{ shiftKey: boolean; altKey: boolean; ctrlKey: boolean; metaKey: boolean }> = {}, key = 'Enter') => ({
    key,
    shiftKey: false,
    altKey: false,
    ctrlKey: false,
    metaKey: false,
    ...mods,
  });

  it('Enter sends and Shift+Enter is a new line, by default', () => {
    expect(sendsMessage(press(), true)).toBe(true);
    expect(sendsMessage(press({ ctrlKey: true }), true)).toBe(true);
    expect(sendsMessage(press({ shiftKey: true }), true)).toBe(false);
    expect(sendsMessage(press({}, 'a'), true)).toBe(false);
  });

  it('with Enter-to-send off, only Ctrl or Cmd+Enter sends', () => {
    expect(sendsMessage(press(), false)).toBe(false);
    expect(sendsMessage(press({ ctrlKey: true }), false)).toBe(true);
    expect(sendsMessage(press({ metaKey: true }), false)).toBe(true);
    expect(sendsMessage(press({ metaKey: true, shiftKey: true }), false)).toBe(false);
  });
});

describe('paste', () => {
  it('keeps the plain text with its line breaks, drops control characters', () => {
    expect(pastedText('line 1\r\nline 2\rline 3\n\tend')).toBe('line 1\nline 2\nline 3\n\tend');
    expect(pastedText('a\u0000b\u001bc\u007f')).toBe('abc');
  });

  it('replaces the selection and puts the caret after what was pasted', () => {
    expect(insertAt('hello world', 6, 11, 'there')).toEqual({ text: 'hello there', caret: 11 });
    expect(insertAt('ab', 1, 1, 'X')).toEqual({ text: 'aXb', caret: 2 });
  });
});

describe('fuzzy filter', () => {
  const names = ['alice@heron.test', 'Bob Builder', 'carol@example.org', 'Alan Turing', 'bobby@heron.test'];

  it('matches the letters in order, anywhere', () => {
    expect(fuzzyMatch('bbld', 'Bob Builder')).not.toBeNull();
    expect(fuzzyMatch('dlb', 'Bob Builder')).toBeNull();
  });

  it('ranks a prefix and word starts above scattered letters', () => {
    expect(fuzzyFilter(names, 'bob', (s) => s)).toEqual(['Bob Builder', 'bobby@heron.test']);
    expect(fuzzyFilter(names, 'at', (s) => s)[0]).toBe('Alan Turing');
    expect(fuzzyFilter(names, 'al', (s) => s).slice(0, 2)).toEqual(['alice@heron.test', 'Alan Turing']);
  });

  it('keeps everything in order for an empty query', () => {
    expect(fuzzyFilter(names, '  ', (s) => s)).toEqual(names);
  });
});
