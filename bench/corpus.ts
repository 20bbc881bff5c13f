// A deterministic, realistic message corpus for the archive benchmark: three accounts, a
// thousand conversations whose sizes follow a power law (one chat of ~130k messages, many
// of a few hundred), talked in bursts over three years, Zipf-distributed words, some CJK,
// emoji, links, replies, and the random ids a real server and client put on every message.
import type { MessageRecord } from '../main/core/archive/archive';

/** mulberry32: a small seeded PRNG, so every run stores the same corpus. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COMMON = `the you to and it of that is in for on have be with this are not we was but so at what
  just can do will if get all about know like me my your they out up no yes ok okay now time good think one
  see today tomorrow meeting call later thanks great sure lunch dinner coffee tea work home back week going
  pizza sushi train weekend sounds nice love haha lol sorry maybe need want let's send file photo link doc`
  .split(/\s+/)
  .filter(Boolean);
const SYLLABLES = 'ka lo mi re tu san vel dor fin ghe pra nok sil wen ber tam qui zor lux mev'.split(' ');
const CJK = '我们你他她是的了在有这个人不会去来说好东京都大学今天明日会议电话朋友時間駅電車'.split('');
const EMOJI = ['🎉', '😂', '👍', '❤️', '🙏', '😅', '🔥', '☕', '🍕', '✅'];

/** A random (v4-shaped) UUID, as servers use for stanza-ids and clients for message ids. */
export function uuid(random: () => number): string {
  const hex = (digits: number) => Math.floor(random() * 16 ** digits).toString(16).padStart(digits, '0');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(6)}${hex(6)}`;
}

export type Conversation = { account: number; peer: string; weight: number };

export type Corpus = {
  accounts: Array<{ id: string; jid: string }>;
  conversations: Conversation[];
  /** The vocabulary, most frequent first (the benchmark picks rare and common words from it). */
  words: string[];
  /** Batches of records in time order, as MAM pages would bring them. */
  batches(batchSize: number): Generator<{ account: number; records: MessageRecord[] }>;
};

export const START_TS = Date.UTC(2023, 0, 1);

export function makeCorpus(total: number, seed = 42): Corpus {
  const accounts = [0, 1, 2].map((n) => ({ id: `00000000-0000-4000-8000-00000000000${n + 1}`, jid: `user${n}@example${n}.org` }));
  const setup = prng(seed);
  const pseudo = Array.from({ length: 6000 }, () =>
    Array.from({ length: 2 + Math.floor(setup() * 3) }, () => SYLLABLES[Math.floor(setup() * SYLLABLES.length)]).join(''),
  );
  const words = [...new Set([...COMMON, ...pseudo])];
  // Zipf over the vocabulary: cumulative weights for sampling by binary search.
  const cumulative: number[] = [];
  words.reduce((sum, _, i) => (cumulative[i] = sum + 1 / (i + 1)), 0);
  const conversations: Conversation[] = Array.from({ length: 1000 }, (_, i) => ({
    account: i % 3,
    peer: `contact${i}@${['jabber.example', 'chat.example', 'xmpp.example'][i % 3]}`,
    weight: 1 / (i + 1),
  }));
  const convCumulative: number[] = [];
  conversations.reduce((sum, c, i) => (convCumulative[i] = sum + c.weight), 0);
  const pick = (table: number[], r: number) => {
    const target = r * table.at(-1)!;
    let lo = 0;
    let hi = table.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (table[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  function* batches(batchSize: number): Generator<{ account: number; records: MessageRecord[] }> {
    const random = prng(seed + 1);
    const span = 3 * 365 * 24 * 3600 * 1000;
    const pending: MessageRecord[][] = [[], [], []];
    let conversation = conversations[0]!;
    for (let n = 0; n < total; n++) {
      const ts = START_TS + Math.floor((n / total) * span + random() * 1000);
      // People talk in bursts: a run of ~12 messages in one chat before another one.
      if (random() < 1 / 12) conversation = conversations[pick(convCumulative, random())]!;
      const own = accounts[conversation.account]!.jid;
      const out = random() < 0.45;
      const length = 1 + Math.floor(-Math.log(1 - random()) * 9);
      const kind = random();
      let body: string;
      if (kind < 0.03) body = Array.from({ length: 2 + length }, () => CJK[Math.floor(random() * CJK.length)]).join('');
      else body = Array.from({ length }, () => words[pick(cumulative, random())]).join(' ');
      if (kind > 0.95) body += ` ${EMOJI[Math.floor(random() * EMOJI.length)]}`;
      else if (kind > 0.93) body += ` https://files.example/${n.toString(36)}.jpg`;
      const id = uuid(random);
      const record: MessageRecord = {
        peer: conversation.peer,
        direction: out ? 'out' : 'in',
        sender: out ? own : conversation.peer,
        messageId: id,
        // Most clients send an origin-id equal to the message id (XEP-0359); some send none.
        ...(out || random() < 0.8 ? { originId: id } : {}),
        stanzaId: { id: uuid(random), by: own },
        body,
        ts,
        state: out ? 'sent' : 'received',
        ...(random() < 0.02 ? { replyTo: { id: `reply-target-${n - 1}` } } : {}),
      };
      const queue = pending[conversation.account]!;
      queue.push(record);
      if (queue.length === batchSize) {
        yield { account: conversation.account, records: queue.splice(0) };
      }
    }
    for (const [account, queue] of pending.entries()) if (queue.length) yield { account, records: queue };
  }

  return { accounts, conversations, words, batches };
}
