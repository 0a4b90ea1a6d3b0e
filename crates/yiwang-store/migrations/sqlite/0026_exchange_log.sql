-- The exchange message log (issue #16): one row per message exchanged with another department,
-- on both sides (direction 'out' = we asked, 'in' = we answered). Append-only and hash-chained:
-- each row's hash is SM3 over its canonical bytes and the previous row's hash (defined in the
-- yiwang-exchange crate), so `yiwang exchange verify` finds any edited, removed or reordered row.
-- The envelope is kept as checked JSON; the subject in it is masked. Digests are hex, seals are
-- their text (alg:key-id:base64).
CREATE TABLE exchange_log (
    seq INTEGER PRIMARY KEY NOT NULL,
    at INTEGER NOT NULL,
    direction TEXT NOT NULL,
    message_id TEXT NOT NULL,
    envelope TEXT NOT NULL,
    request_body_digest TEXT NOT NULL,
    request_seal TEXT NOT NULL,
    response_body_digest TEXT,
    response_seal TEXT,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX exchange_log_message ON exchange_log (message_id);
CREATE INDEX exchange_log_at ON exchange_log (at);

-- The chain head: updating it serialises appenders on both backends.
CREATE TABLE exchange_log_head (
    id INTEGER PRIMARY KEY NOT NULL,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO exchange_log_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Where a retention purge cut the chain: the last purged entry's seq and hash, sealed by the
-- department's key, so verification starts from a trusted point instead of genesis.
CREATE TABLE exchange_log_checkpoint (
    seq INTEGER PRIMARY KEY NOT NULL,
    hash TEXT NOT NULL,
    at INTEGER NOT NULL,
    seal TEXT NOT NULL
);

-- Message ids a provider has accepted, per requesting department, kept for the replay window:
-- the unique key refuses a replay even when several processes serve the same provider.
CREATE TABLE exchange_seen (
    requester TEXT NOT NULL,
    message_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (requester, message_id)
);
CREATE INDEX exchange_seen_created ON exchange_seen (created_at);
