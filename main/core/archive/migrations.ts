// Numbered, append-only schema migrations. Never edit a released entry: add a new one.
// `PRAGMA user_version` records how many have run. A migration is SQL, or a function for the
// steps SQL cannot express; either runs in one transaction with foreign keys deferred to a
// check at its end. A function must be self-contained: it may not call code that later
// versions could change.
import type { Db } from './database';

export type Migration = string | ((db: Db) => void);

export const migrations: readonly Migration[] = [
  // 1: accounts, roster cache, conversations with their summary, messages
  `
  CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    jid         TEXT NOT NULL UNIQUE,
    host        TEXT,
    port        INTEGER,
    resource    TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE contacts (
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    jid           TEXT NOT NULL,
    name          TEXT,
    subscription  TEXT NOT NULL,
    groups_json   TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (account_id, jid)
  ) STRICT, WITHOUT ROWID;

  -- The summary columns (last_*, unread) are kept in the same transaction as each message
  -- write, so the conversation list never needs a GROUP BY over messages.
  CREATE TABLE conversations (
    id              INTEGER PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    peer            TEXT NOT NULL,
    kind            TEXT NOT NULL DEFAULT 'chat',
    last_message_id INTEGER,
    last_ts         INTEGER,
    unread          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, peer)
  ) STRICT;
  CREATE INDEX conversations_recent ON conversations(last_ts DESC);

  CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    direction        TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    sender           TEXT NOT NULL,
    message_id       TEXT,
    origin_id        TEXT,
    stanza_id        TEXT,
    stanza_id_by     TEXT,
    body             TEXT NOT NULL,
    ts               INTEGER NOT NULL,
    received_at      INTEGER NOT NULL,
    state            TEXT NOT NULL,
    error            TEXT
  ) STRICT;
  CREATE INDEX messages_page ON messages(conversation_id, ts, id);
  CREATE UNIQUE INDEX messages_by_stanza_id ON messages(conversation_id, stanza_id_by, stanza_id) WHERE stanza_id IS NOT NULL;
  CREATE INDEX messages_by_origin_id ON messages(conversation_id, sender, origin_id) WHERE origin_id IS NOT NULL;
  CREATE INDEX messages_by_message_id ON messages(conversation_id, sender, message_id) WHERE message_id IS NOT NULL;
  CREATE INDEX messages_pending ON messages(state) WHERE state = 'pending';
  `,
  // 2: per-archive MAM sync state, so a catch-up resumes where the last committed page ended
  `
  CREATE TABLE mam_sync (
    account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    archive_jid     TEXT NOT NULL,
    last_stanza_id  TEXT,
    last_ts         INTEGER,
    complete        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, archive_jid)
  ) STRICT, WITHOUT ROWID;
  `,
  // 3: time-ordered message ids, relations (corrections, retractions, reactions, replies,
  // attachments), full-text search, pending deletions, caps and avatar caches
  (db) => {
    db.exec(`
    ALTER TABLE accounts ADD COLUMN removing INTEGER NOT NULL DEFAULT 0;

    DROP INDEX conversations_recent;
    DROP INDEX messages_page;
    DROP INDEX messages_by_stanza_id;
    DROP INDEX messages_by_origin_id;
    DROP INDEX messages_by_message_id;
    DROP INDEX messages_pending;
    ALTER TABLE conversations RENAME TO conversations_v1;
    ALTER TABLE messages RENAME TO messages_v1;

    -- last_message_id doubles as the list order (message ids follow time). read_up_to is the
    -- newest message the user has seen; unread counts incoming messages after it. A deleted
    -- conversation is hidden at once (deleting = 1) and purged in slices.
    CREATE TABLE conversations (
      id               INTEGER PRIMARY KEY,
      account_id       TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      peer             TEXT NOT NULL,
      kind             TEXT NOT NULL DEFAULT 'chat' CHECK (kind IN ('chat', 'groupchat')),
      last_message_id  INTEGER,
      unread           INTEGER NOT NULL DEFAULT 0,
      read_up_to       INTEGER NOT NULL DEFAULT 0,
      deleting         INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    INSERT INTO conversations (id, account_id, peer, kind, unread)
      SELECT id, account_id, peer, kind, unread FROM conversations_v1;

    -- id = ts * 2048 + n: ordering by id is ordering by time, so pages, the conversation list
    -- and full-text results (rowid order) all read newest-first straight from an index.
    -- body is the text as last corrected ('' once retracted); original_body keeps the first
    -- version of a corrected message.
    CREATE TABLE messages (
      id               INTEGER PRIMARY KEY,
      conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
      direction        TEXT NOT NULL CHECK (direction IN ('in', 'out')),
      sender           TEXT NOT NULL,
      occupant_id      TEXT,
      message_id       TEXT,
      origin_id        TEXT,
      stanza_id        TEXT,
      stanza_id_by     TEXT,
      body             TEXT NOT NULL,
      original_body    TEXT,
      ts               INTEGER NOT NULL,
      received_at      INTEGER NOT NULL,
      state            TEXT NOT NULL,
      error            TEXT,
      edited_at        INTEGER,
      retracted_at     INTEGER,
      reply_to_ref     TEXT,
      reply_to_sender  TEXT
    ) STRICT;
    `);
    // Old rows get time-ordered ids, oldest first, so equal timestamps keep their order.
    const insert = db.prepare(
      `INSERT INTO messages (id, conversation_id, direction, sender, message_id, origin_id, stanza_id, stanza_id_by,
         body, ts, received_at, state, error)
       SELECT ?, conversation_id, direction, sender, message_id, origin_id, stanza_id, stanza_id_by,
         body, ?, received_at, state, error FROM messages_v1 WHERE id = ?`,
    );
    const top = db.prepare<[number, number], { top: number | null }>('SELECT max(id) AS top FROM messages WHERE id >= ? AND id < ?');
    const old = db.prepare<[], { id: number; ts: number }>('SELECT id, ts FROM messages_v1 ORDER BY ts, id').all();
    for (const row of old) {
      const ts = Math.min(Math.max(row.ts, 0), 2 ** 42 - 1);
      let slot = Math.max(ts * 2048, 1);
      for (;;) {
        const used = top.get(slot, slot + 2048)!.top;
        if (used === null) break;
        if (used + 1 < slot + 2048) {
          slot = used + 1;
          break;
        }
        slot += 2048;
      }
      insert.run(slot, ts, row.id);
    }
    db.exec(`
    DROP TABLE messages_v1;
    DROP TABLE conversations_v1;
    UPDATE conversations SET last_message_id = (SELECT max(id) FROM messages WHERE conversation_id = conversations.id);

    CREATE UNIQUE INDEX conversations_peer ON conversations(account_id, peer) WHERE deleting = 0;
    CREATE INDEX conversations_recent ON conversations(last_message_id DESC) WHERE deleting = 0;
    CREATE INDEX conversations_deleting ON conversations(id) WHERE deleting = 1;

    -- Finding the stored copy of a message. A B-tree index over random ids costs about one page
    -- write per message in every batch (measured: three such indexes cut bulk inserts from
    -- ~50k/s to ~20k/s), so each message is in exactly one: its origin-id if it has one (every
    -- copy of a stanza carries it), else the archive's stanza-id, else its message id while it
    -- has neither. Lookups by the ids left out go through their tokens in messages_fts
    -- (see heron_scope). stanza_id_by is no part of a key: a conversation's stanza-ids all
    -- come from one archive (ours, or the room's).
    CREATE INDEX messages_page ON messages(conversation_id);
    CREATE INDEX messages_by_origin_id ON messages(conversation_id, sender, origin_id) WHERE origin_id IS NOT NULL;
    CREATE INDEX messages_by_stanza_id ON messages(conversation_id, stanza_id) WHERE origin_id IS NULL AND stanza_id IS NOT NULL;
    CREATE INDEX messages_by_message_id ON messages(conversation_id, sender, message_id)
      WHERE origin_id IS NULL AND stanza_id IS NULL AND message_id IS NOT NULL;
    CREATE INDEX messages_pending ON messages(state) WHERE state = 'pending';

    -- Corrections, retractions and reactions, each stored once (matched by its own ids like a
    -- message) and kept until the message it names arrives (target_id NULL meanwhile), which
    -- happens when history is fetched newest page first.
    CREATE TABLE message_events (
      id               INTEGER PRIMARY KEY,
      conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
      kind             TEXT NOT NULL CHECK (kind IN ('correction', 'retraction', 'reaction')),
      target_ref       TEXT NOT NULL,
      target_id        INTEGER REFERENCES messages(id) ON DELETE CASCADE,
      sender           TEXT NOT NULL,
      occupant_id      TEXT,
      message_id       TEXT,
      origin_id        TEXT,
      stanza_id        TEXT,
      stanza_id_by     TEXT,
      ts               INTEGER NOT NULL,
      payload          TEXT NOT NULL
    ) STRICT;
    CREATE INDEX message_events_of ON message_events(target_id, kind) WHERE target_id IS NOT NULL;
    CREATE INDEX message_events_waiting ON message_events(conversation_id, target_ref) WHERE target_id IS NULL;
    CREATE UNIQUE INDEX message_events_by_stanza_id ON message_events(conversation_id, stanza_id_by, stanza_id) WHERE stanza_id IS NOT NULL;
    CREATE INDEX message_events_by_origin_id ON message_events(conversation_id, sender, origin_id) WHERE origin_id IS NOT NULL;
    CREATE INDEX message_events_by_message_id ON message_events(conversation_id, sender, message_id) WHERE message_id IS NOT NULL;

    CREATE TABLE message_attachments (
      message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
      position    INTEGER NOT NULL,
      url         TEXT NOT NULL,
      name        TEXT,
      mime        TEXT,
      size        INTEGER,
      width       INTEGER,
      height      INTEGER,
      PRIMARY KEY (message_id, position)
    ) STRICT, WITHOUT ROWID;

    -- XEP-0115: what one client version supports, shared by every contact that runs it.
    CREATE TABLE caps_cache (
      node_ver         TEXT PRIMARY KEY,
      identities_json  TEXT NOT NULL,
      features_json    TEXT NOT NULL,
      fetched_at       INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;

    -- Avatars by content hash (XEP-0084 / XEP-0153): one image however many contacts use it.
    CREATE TABLE avatars (
      hash        TEXT PRIMARY KEY,
      mime        TEXT NOT NULL,
      data        BLOB NOT NULL,
      fetched_at  INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE contact_avatars (
      account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      jid         TEXT NOT NULL,
      hash        TEXT NOT NULL,
      PRIMARY KEY (account_id, jid)
    ) STRICT, WITHOUT ROWID;

    -- Full-text search over the current text of every message. scope carries the conversation,
    -- the sender and hashed client ids as tokens, so filtering by conversation or sender is an
    -- index lookup rather than a scan after the match, and a message is found by its origin-id
    -- or id; FTS5 absorbs such random keys in its log-structured segments far more cheaply than
    -- a B-tree. Text goes through heron_search_text and heron_scope (search-text.ts). The Archive writes
    -- the index beside each change to messages.body, with the same scope text: FTS5 writes
    -- from a trigger measured half as fast as the same writes made directly.
    CREATE VIEW messages_fts_source AS
      SELECT id, heron_search_text(body) AS body, heron_scope(conversation_id, sender, origin_id, message_id, stanza_id) AS scope FROM messages;
    CREATE VIRTUAL TABLE messages_fts USING fts5(
      body, scope,
      content = 'messages_fts_source', content_rowid = 'id',
      tokenize = "unicode61 remove_diacritics 2 categories 'L* N* Co So'"
    );
    INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
    `);
  },
  // 4: contacts: the roster's pending and pre-approval flags, the roster version (XEP-0237) the
  // cache matches, the presence we choose to show, and subscription requests waiting for an answer
  `
  ALTER TABLE contacts ADD COLUMN ask INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE contacts ADD COLUMN approved INTEGER NOT NULL DEFAULT 0;

  CREATE TABLE roster_versions (
    account_id  TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    ver         TEXT NOT NULL
  ) STRICT;

  CREATE TABLE own_presence (
    account_id  TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    show        TEXT NOT NULL CHECK (show IN ('available', 'away', 'xa', 'dnd')),
    status      TEXT
  ) STRICT;

  CREATE TABLE subscription_requests (
    account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    jid          TEXT NOT NULL,
    nick         TEXT,
    status       TEXT,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, jid)
  ) STRICT, WITHOUT ROWID;
  `,
  // 5: the certificate a user trusted for an account, and accounts removed with their history kept
  `
  CREATE TABLE certificate_pins (
    account_id  TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    sha256      TEXT NOT NULL,
    trusted_at  INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE removed_accounts (
    account_id  TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    removed_at  INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  `,
  // 6: whether an incoming message asked for displayed markers (XEP-0333)
  `
  ALTER TABLE messages ADD COLUMN markable INTEGER NOT NULL DEFAULT 0;
  `,
  // 7: prefix indexes for 2- and 3-character prefixes, so search-as-you-type stays fast: a
  // prefix query otherwise merges every matching word's postings (measured at 1M messages:
  // "th*" 68 ms, "the*" 39 ms; with these indexes about 1 ms), for ~13% more insert time.
  `
  DROP TABLE messages_fts;
  CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, scope,
    prefix = '2 3',
    content = 'messages_fts_source', content_rowid = 'id',
    tokenize = "unicode61 remove_diacritics 2 categories 'L* N* Co So'"
  );
  INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
  `,
  // 8: notices in the timeline that are no message: 'gap' marks history the server archive no
  // longer holds (from ts to gap_until). A notice is never unread, never a preview, never a hit.
  `
  ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'chat' CHECK (kind IN ('chat', 'gap'));
  ALTER TABLE messages ADD COLUMN gap_until INTEGER;
  `,
  // 9: how each account logged in: once SCRAM worked, a server offering only PLAIN is refused
  // (it is what a man in the middle would offer to read the password) until the user allows it.
  `
  CREATE TABLE sasl_history (
    account_id     TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    scram_at       INTEGER NOT NULL,
    plain_allowed  INTEGER NOT NULL DEFAULT 0
  ) STRICT, WITHOUT ROWID;
  `,
  // 10: message requests. request: 0 a chat in the list, 1 waiting at the door (someone not in the roster
  // wrote first), 2 turned away (blocked or denied: kept, shown nowhere). we_wrote: we sent
  // at least one message there, so the peer may hear receipts and markers from us.
  `
  ALTER TABLE conversations ADD COLUMN request INTEGER NOT NULL DEFAULT 0 CHECK (request IN (0, 1, 2));
  ALTER TABLE conversations ADD COLUMN we_wrote INTEGER NOT NULL DEFAULT 0;
  UPDATE conversations SET we_wrote = 1 WHERE EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id AND m.direction = 'out');
  CREATE INDEX conversations_requests ON conversations(last_message_id DESC) WHERE deleting = 0 AND request = 1;
  `,
  // 11: our messages the server took but no receipt has yet covered: what a receipt for a later
  // one marks delivered, found without walking the conversation.
  `
  CREATE INDEX messages_undelivered ON messages(conversation_id) WHERE direction = 'out' AND state IN ('sent', 'archived');
  `,
  // 12: the outbox of relations (XEP-0308 corrections, XEP-0444 reactions, XEP-0424 retractions)
  // we send: pending until the server acknowledges them, resent with the same id after a cut.
  `
  ALTER TABLE message_events ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX message_events_pending ON message_events(conversation_id) WHERE pending = 1;
  `,
  // 13: rooms (XEP-0045) the user is in, rejoined after a reconnect or a restart with the nick
  // last used. Passwords stay out: a protected room's comes from its bookmark or the user.
  `
  CREATE TABLE rooms (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    jid         TEXT NOT NULL,
    nick        TEXT NOT NULL,
    subject     TEXT,
    PRIMARY KEY (account_id, jid)
  ) STRICT, WITHOUT ROWID;
  `,
  // 14: the window's state of each conversation (pinned, muted, the unsent draft) and the
  // app's settings, one JSON document per key (only 'app' so far) so a new setting needs no migration.
  `
  ALTER TABLE conversations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE conversations ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE conversations ADD COLUMN draft TEXT NOT NULL DEFAULT '';
  CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;
  `,
  // 15: OMEMO (XEP-0384, both versions). Our identity per account, sealed by a key in the OS
  // keychain (never in clear here); our prekeys and signed prekeys and the sessions, per
  // version; the devices we know of each contact with the identity key first seen and its trust;
  // the per-conversation switch (NULL: on when the contact's devices support it); and what a
  // message was encrypted with, or why it could not be decrypted.
  `
  CREATE TABLE omemo_identity (
    account_id  TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    device_id   INTEGER NOT NULL,
    sealed      BLOB NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE omemo_prekeys (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    version     TEXT NOT NULL CHECK (version IN ('legacy', 'omemo2')),
    signed      INTEGER NOT NULL CHECK (signed IN (0, 1)),
    id          INTEGER NOT NULL,
    private_key BLOB NOT NULL,
    public_key  BLOB NOT NULL,
    signature   BLOB,
    created_at  INTEGER,
    current     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, version, signed, id)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE omemo_counters (
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    version        TEXT NOT NULL,
    highest_prekey INTEGER NOT NULL,
    PRIMARY KEY (account_id, version)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE omemo_sessions (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    version     TEXT NOT NULL,
    jid         TEXT NOT NULL,
    device_id   INTEGER NOT NULL,
    state       TEXT NOT NULL,
    PRIMARY KEY (account_id, version, jid, device_id)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE omemo_devices (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    jid         TEXT NOT NULL,
    version     TEXT NOT NULL CHECK (version IN ('legacy', 'omemo2')),
    device_id   INTEGER NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    identity    BLOB,
    trust       TEXT NOT NULL DEFAULT 'blind' CHECK (trust IN ('blind', 'verified', 'untrusted')),
    first_seen  INTEGER NOT NULL,
    PRIMARY KEY (account_id, jid, version, device_id)
  ) STRICT, WITHOUT ROWID;
  ALTER TABLE conversations ADD COLUMN omemo INTEGER CHECK (omemo IN (0, 1));
  ALTER TABLE messages ADD COLUMN encryption TEXT CHECK (encryption IN ('omemo', 'omemo2'));
  ALTER TABLE messages ADD COLUMN sender_device INTEGER;
  ALTER TABLE messages ADD COLUMN undecryptable INTEGER NOT NULL DEFAULT 0;
  `,
  // 16: what the outbox sealed with OMEMO, by stanza id, kept until the stanza leaves the
  // outbox: sent again after a cut, it goes out as first sealed. Sealing it afresh each time
  // would spend a key of the ratchet per attempt, and a long outbox on a bad network then
  // pushes the receiver's chain past what it may skip. And what each ciphertext we received
  // decrypted to, by its digest, for a while: its key is spent once used, and another copy
  // of it (the live one and the archive's) must read the same, not "could not be decrypted".
  // And whether a device was ever in its owner's list, or is only a key an xmpp: link vouched for.
  `
  CREATE TABLE omemo_sealed (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    stanza_id   TEXT NOT NULL,
    stanza      TEXT NOT NULL,
    PRIMARY KEY (account_id, stanza_id)
  ) STRICT, WITHOUT ROWID;
  ALTER TABLE omemo_devices ADD COLUMN listed INTEGER NOT NULL DEFAULT 1;
  CREATE TABLE omemo_opened (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    digest      BLOB NOT NULL,
    opened      TEXT NOT NULL,
    opened_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, digest)
  ) STRICT, WITHOUT ROWID;
  `,
];
