import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchQuery } from '../../main/core/archive/archive';
import { parseSearch } from '../../main/core/archive/fts-query';
import { rankByRelevance } from '../../main/core/archive/ranking';
import { ACCOUNT, ALSO_ME, ME, OTHER_ACCOUNT, PEER, T0, fromPeer, makeArchive, toPeer, type ArchiveFixture } from './archive-support';

const DAY = 86_400_000;
const BOB = 'bob@example.org';

/** What people type into a search box, including what breaks naive FTS5 queries. */
const NASTY_INPUTS = [
  '', ' ', '"', '""', '"""', '" "', 'lunch"', '"lunch', 'a"b"c', "it's", '*', '**', 'lun*', '*lunch', 'lu*ch', '-', '--', '-lunch', 'lunch -',
  '- lunch', '-"', 'AND', 'OR', 'NOT', 'AND OR NOT', 'lunch AND', 'OR lunch', 'NOT lunch', 'lunch NOT', 'lunch OR OR dinner', 'NEAR(lunch dinner)',
  'NEAR', '(', ')', '(lunch', 'lunch)', '((()))', '^lunch', '+lunch', 'body:lunch', 'scope:c1', 'scope : c1', '{body scope}: x', 'messages_fts',
  "'; DROP TABLE messages; --", '\\', '\\"', '%', '_', '東京', '東京都', 'ソウル', '서울에서', 'привет', 'مرحبا', 'שלום', 'café', 'cafe\u0301', '🎉',
  '🎉🎉', '👨‍👩‍👧', '❤️', '🏳️‍🌈', '\u200B', '\u200D', '\uFEFF', '\u0000', '\u0001lunch', 'lunch\u0007', '\uD800', 'x'.repeat(5000),
  '"a'.repeat(300), '-'.repeat(300), 'lunch '.repeat(200), '𝕳𝖊𝖗𝖔𝖓', 'Ⅻ', '½', '©', '™', '٣', 'ǅ', 'ß', 'İstanbul',
];

/** A seeded stream of random strings drawn from characters that mean something to FTS5. */
function* fuzz(count: number): Generator<string> {
  let seed = 1234;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const alphabet = [...'"*-+^():{}[]\'\\ ANDORNOTNEARabc東京🎉é\u200B\u0000\n\t'];
  for (let i = 0; i < count; i++) {
    yield Array.from({ length: Math.floor(random() * 24) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  }
}

describe('archive search', () => {
  let fx: ArchiveFixture;
  let conversation: number;
  let bobConversation: number;
  let otherAccountConversation: number;

  beforeAll(() => {
    fx = makeArchive();
    const { archive } = fx;
    const stored = archive.messages.storeBatch(ACCOUNT, [
      fromPeer(1, { body: 'Lunch at the Café tomorrow?', ts: T0 }),
      fromPeer(2, { body: 'dinner tomorrow at 8', ts: T0 + DAY }),
      toPeer(3, { body: 'see you at lunch 🎉', ts: T0 + 2 * DAY }),
      fromPeer(4, { body: '我们明天在東京都见面', ts: T0 + 3 * DAY }),
      fromPeer(5, { body: 'lunch lunch lunch, always lunch', ts: T0 + 4 * DAY }),
      fromPeer(6, { body: 'the meeting moved to friday', ts: T0 + 5 * DAY }),
      fromPeer(7, { body: 'an unrelated message about lunchboxes', ts: T0 + 6 * DAY }),
      fromPeer(8, { body: 'secret plan: surprise party', ts: T0 + 7 * DAY }),
    ]);
    conversation = stored[0]!.conversation.id;
    archive.messages.store(ACCOUNT, fromPeer(9, { body: 'secret plan: birthday party', replaces: 'peer-8', ts: T0 + 8 * DAY }));
    archive.messages.store(ACCOUNT, fromPeer(10, { body: 'my password is hunter2', ts: T0 + 9 * DAY }));
    archive.messages.storeEvent(ACCOUNT, { kind: 'retraction', peer: PEER, sender: PEER, target: 'peer-10', ts: T0 + 9 * DAY + 1, messageId: 'r-10' });
    bobConversation = archive.messages.store(ACCOUNT, {
      peer: BOB,
      direction: 'in',
      sender: BOB,
      messageId: 'bob-1',
      stanzaId: { id: 'bob-arch-1', by: ME },
      body: 'lunch with bob?',
      ts: T0 + 10 * DAY,
      state: 'received',
    }).conversation.id;
    otherAccountConversation = archive.messages.store(OTHER_ACCOUNT, {
      ...fromPeer(11, { body: 'work lunch on monday', ts: T0 + 11 * DAY }),
      stanzaId: { id: 'w-1', by: ALSO_ME },
    }).conversation.id;
  });
  afterAll(() => fx.close());

  const find = (query: string, more: Partial<SearchQuery> = {}) => fx.archive.messages.search({ query, limit: 50, ...more }).hits.map((h) => h.message.body);

  it('treats anything typed as a valid query', () => {
    for (const input of [...NASTY_INPUTS, ...fuzz(500)]) {
      for (const order of ['newest', 'relevance'] as const) {
        expect(() => fx.archive.messages.search({ query: input, order, limit: 10 }), JSON.stringify(input)).not.toThrow();
        expect(() => fx.archive.messages.search({ query: input, order, conversationId: conversation, sender: '"x', from: 0, to: T0, limit: 10 })).not.toThrow();
        // Any sender, too: it is a phrase in the index's scope column.
        expect(() => fx.archive.messages.search({ query: 'lunch', order, sender: input, limit: 10 }), JSON.stringify(input)).not.toThrow();
      }
    }
    // A sender with a NUL or other control character in it is nobody we hold a message from.
    expect(find('lunch', { sender: `${BOB}\u0000` })).toEqual([]);
    expect(find('lunch', { sender: '\u0000' })).toEqual([]);
    expect(find('lunch', { sender: BOB })).toEqual(['lunch with bob?']);
  });

  it('finds words newest first, across accounts, with the matches marked', () => {
    const result = fx.archive.messages.search({ query: 'lunch', limit: 50 });
    expect(result.hits.map((h) => h.message.body)).toEqual([
      'work lunch on monday',
      'lunch with bob?',
      'lunch lunch lunch, always lunch',
      'see you at lunch 🎉',
      'Lunch at the Café tomorrow?',
    ]);
    expect(result.hits[0]!.snippet).toEqual([
      { text: 'work ', hit: false },
      { text: 'lunch', hit: true },
      { text: ' on monday', hit: false },
    ]);
    expect(result.hits[3]!.peer).toBe(PEER);
  });

  it('understands phrases, prefixes, exclusions and alternatives', () => {
    expect(find('"see you"')).toEqual(['see you at lunch 🎉']);
    expect(find('"you see"')).toEqual([]);
    expect(find('lunchbox*')).toEqual(['an unrelated message about lunchboxes']);
    expect(find('lunch -tomorrow -bob -work')).toEqual(['lunch lunch lunch, always lunch', 'see you at lunch 🎉']);
    expect(find('dinner OR meeting')).toEqual(['the meeting moved to friday', 'dinner tomorrow at 8']);
    expect(find('tomorrow lunch')).toEqual(['Lunch at the Café tomorrow?']);
  });

  it('finds text in any script, without caring about accents or case', () => {
    expect(find('東京')).toEqual(['我们明天在東京都见面']);
    expect(find('明天')).toEqual(['我们明天在東京都见面']);
    expect(find('京东')).toEqual([]);
    expect(find('🎉')).toEqual(['see you at lunch 🎉']);
    expect(find('cafe')).toEqual(['Lunch at the Café tomorrow?']);
    expect(find('CAFÉ')).toEqual(['Lunch at the Café tomorrow?']);
    const [cjk] = fx.archive.messages.search({ query: '東京', limit: 5 }).hits;
    expect(cjk!.snippet.filter((s) => s.hit).map((s) => s.text)).toEqual(['東京']);
    expect(cjk!.snippet.map((s) => s.text).join('')).toBe('我们明天在東京都见面');
  });

  it('finds a corrected message by its latest text, and a retracted one not at all', () => {
    expect(find('birthday')).toEqual(['secret plan: birthday party']);
    expect(find('surprise')).toEqual([]);
    expect(find('hunter2')).toEqual([]);
    expect(find('password')).toEqual([]);
  });

  it('filters by account, conversation, sender and date', () => {
    expect(find('lunch', { accountId: OTHER_ACCOUNT })).toEqual(['work lunch on monday']);
    expect(find('lunch', { conversationId: bobConversation })).toEqual(['lunch with bob?']);
    expect(find('lunch', { conversationId: otherAccountConversation })).toEqual(['work lunch on monday']);
    expect(find('lunch', { sender: ME })).toEqual(['see you at lunch 🎉']);
    expect(find('lunch', { sender: BOB })).toEqual(['lunch with bob?']);
    expect(find('lunch', { from: T0 + 2 * DAY, to: T0 + 5 * DAY })).toEqual(['lunch lunch lunch, always lunch', 'see you at lunch 🎉']);
    expect(find('tomorrow', { conversationId: conversation, from: T0 + DAY })).toEqual(['dinner tomorrow at 8']);
  });

  it('cannot be steered into the filter column by what is typed', () => {
    expect(find(`c${conversation}`)).toEqual([]);
    expect(find('scope:example')).toEqual([]);
    expect(find('peer')).toEqual([]);
  });

  it('pages newest first with a cursor', () => {
    const first = fx.archive.messages.search({ query: 'lunch', limit: 2 });
    expect(first.hits.map((h) => h.message.body)).toEqual(['work lunch on monday', 'lunch with bob?']);
    const second = fx.archive.messages.search({ query: 'lunch', limit: 2, before: first.nextBefore! });
    expect(second.hits.map((h) => h.message.body)).toEqual(['lunch lunch lunch, always lunch', 'see you at lunch 🎉']);
    const third = fx.archive.messages.search({ query: 'lunch', limit: 2, before: second.nextBefore! });
    expect(third.hits.map((h) => h.message.body)).toEqual(['Lunch at the Café tomorrow?']);
    expect(third.nextBefore).toBeUndefined();
  });

  it('ranks by relevance when asked', () => {
    expect(find('lunch', { order: 'relevance' })[0]).toBe('lunch lunch lunch, always lunch');
    expect(find('lunch', { order: 'relevance', accountId: OTHER_ACCOUNT })).toEqual(['work lunch on monday']);
  });

  it('scores relevance with BM25 over the window', () => {
    const docs = [
      { id: 5, body: 'a long message that mentions lunch once among many other words here' },
      { id: 4, body: 'lunch lunch' },
      { id: 3, body: 'Lunch!' },
      { id: 2, body: 'lunchbox' },
      { id: 1, body: 'nothing relevant' },
    ];
    expect(rankByRelevance('lunch', docs)).toEqual([4, 3, 5, 2, 1]);
    expect(rankByRelevance('lunch*', docs).slice(0, 3)).toEqual([4, 3, 2]);
    // A rarer word weighs more than a common one.
    expect(rankByRelevance('lunch OR nothing', docs)[0]).toBe(1);
    // Ties keep the newer first; accents, case and CJK are folded like the index does.
    expect(rankByRelevance('CAFE 東京', [{ id: 2, body: 'café in 東京' }, { id: 1, body: 'Café in 東京' }])).toEqual([2, 1]);
  });

  it('reads the search box into terms', () => {
    expect(parseSearch('"see you" lunch* -dinner OR -x')).toEqual([
      [
        { text: 'see you', prefix: false, negated: false },
        { text: 'lunch', prefix: true, negated: false },
        { text: 'dinner', prefix: false, negated: true },
      ],
    ]);
    expect(parseSearch('NOT a b OR "unclosed')).toEqual([
      [
        { text: 'a', prefix: false, negated: true },
        { text: 'b', prefix: false, negated: false },
      ],
      [{ text: 'unclosed', prefix: false, negated: false }],
    ]);
    expect(parseSearch('- -- *** "" ( )')).toEqual([]);
    // A one-letter prefix would match a good part of the vocabulary: it is searched as a word.
    expect(parseSearch('t* "see y"* lu*').flat().map((t) => [t.text, t.prefix])).toEqual([
      ['t', false],
      ['see y', false],
      ['lu', true],
    ]);
  });
});

describe('archive search and message requests', () => {
  it('leaves out what strangers wrote until their request is accepted, except within their conversation', () => {
    const fx = makeArchive();
    try {
      const { archive } = fx;
      const stranger = 'stranger@spam.example';
      const { conversation } = archive.messages.store(ACCOUNT, fromPeer(1, { peer: stranger, sender: stranger, body: 'cheap watches', stranger: true }));
      archive.messages.store(ACCOUNT, fromPeer(2, { body: 'the watches I told you about' }));
      const peersFound = (query: SearchQuery) => archive.messages.search(query).hits.map((hit) => hit.peer);
      expect(peersFound({ query: 'watches', limit: 10 })).toEqual([PEER]);
      expect(peersFound({ query: 'watches', conversationId: conversation.id, limit: 10 })).toEqual([stranger]);
      expect(peersFound({ query: 'watches', order: 'relevance', limit: 10 })).toEqual([PEER]);
      archive.conversations.decideRequest(ACCOUNT, stranger, 'accepted');
      expect(peersFound({ query: 'watches', limit: 10 }).sort()).toEqual([PEER, stranger].sort());
    } finally {
      fx.close();
    }
  });
});
