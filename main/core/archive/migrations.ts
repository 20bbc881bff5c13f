// Numbered, append-only schema migrations. Never edit a released entry: add a new one.
// `PRAGMA user_version` records how many have run.
export const migrations: readonly string[] = [
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
  // 3: contacts: the roster's pending and pre-approval flags, the roster version (XEP-0237) the
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
  // 4: the certificate a user trusted for an account, and accounts removed with their history kept
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
  // 5: XEP-0115: what one client version supports, shared by every contact that runs it
  `
  CREATE TABLE caps_cache (
    node_ver         TEXT PRIMARY KEY,
    identities_json  TEXT NOT NULL,
    features_json    TEXT NOT NULL,
    fetched_at       INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  `,
  // 6: whether an incoming message asked for displayed markers (XEP-0333)
  `
  ALTER TABLE messages ADD COLUMN markable INTEGER NOT NULL DEFAULT 0;
  `,
];
