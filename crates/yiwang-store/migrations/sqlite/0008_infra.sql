-- Infrastructure for full online handling (issue #4): a DB-backed job queue, the outbox of
-- outbound notifications (SMS / WeChat webhooks) with one row per delivery attempt, the in-site
-- message centre, and uploaded materials. Instants are epoch milliseconds; JSON is TEXT.

-- Background jobs. state: queued | running | done | dead. due_at is when the job may be claimed:
-- for a queued job the time it should run, for a running job the end of its lease (a worker that
-- died leaves a lease that expires, and the job is claimed again). dedup_key, when given, is
-- unique while the job is kept: enqueueing the same key again is a no-op. scheduled_at: the run time
-- first asked for.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedup_key TEXT UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    due_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    locked_by TEXT,
    last_error TEXT,
    scheduled_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX jobs_due ON jobs (state, due_at);

-- Outbound notifications, written in the same transaction as the business fact they announce.
-- recipient_enc: the address (phone number, WeChat open id) encrypted like other personal data
-- (see pii.rs: outbox.recipient#<id>). status: pending | sending | sent | gave_up; due_at as for
-- jobs (next attempt, or the end of the lease while sending).
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    applicant_id INTEGER NOT NULL,
    recipient_enc TEXT,
    template_key TEXT NOT NULL,
    args TEXT NOT NULL,
    case_number TEXT,
    dedup_key TEXT UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'gave_up')),
    due_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    locked_by TEXT,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX outbox_due ON outbox (status, due_at);
CREATE INDEX outbox_applicant ON outbox (applicant_id, id);

-- One row per delivery attempt: outcome sent | failed, with the receiver's answer or the error.
CREATE TABLE outbox_attempts (
    message_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'failed')),
    detail TEXT NOT NULL,
    PRIMARY KEY (message_id, attempt)
);

-- The in-site message centre (站内消息): title_key + args are rendered from the catalog when
-- shown, in the reader's language.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    applicant_id INTEGER NOT NULL,
    case_number TEXT,
    title_key TEXT NOT NULL,
    args TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX messages_applicant ON messages (applicant_id, id);
CREATE INDEX messages_unread ON messages (applicant_id, read_at);

-- Uploaded materials. application_id is the lead's draft/application id (no foreign key: its
-- table comes in another migration). filename is sanitised; the file itself lives in the file
-- store under storage_key (derived from the content's SHA-256, never from the filename).
-- status: current | replaced | removed. frozen_at: set at submission; a frozen upload cannot be
-- replaced or removed (a correction unfreezes exactly the materials to fix).
CREATE TABLE uploads (
    id INTEGER PRIMARY KEY,
    owner_applicant_id INTEGER NOT NULL,
    application_id INTEGER NOT NULL,
    material_key TEXT NOT NULL,
    filename TEXT NOT NULL,
    kind TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('current', 'replaced', 'removed')),
    replaced_by INTEGER,
    frozen_at INTEGER,
    created_at INTEGER NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX uploads_application ON uploads (application_id, material_key, status);
CREATE INDEX uploads_owner ON uploads (owner_applicant_id, id);
CREATE INDEX uploads_storage ON uploads (storage_key);

-- Submission locks the uploads of an application: no upload, replacement or removal while a
-- row is here, except for the materials listed in open_materials (a JSON array of material
-- keys reopened by a correction notice).
CREATE TABLE upload_locks (
    application_id INTEGER PRIMARY KEY NOT NULL,
    locked_at INTEGER NOT NULL,
    open_materials TEXT NOT NULL
);
