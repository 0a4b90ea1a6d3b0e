-- Strong login: TOTP second factor, throttling and lockout, sign-in challenges, idle session
-- timeout, API tokens for other systems. Shared types only; instants are epoch milliseconds.

-- TOTP (RFC 6238). The secret is base32; totp_alg records the parameters (e.g. totp-sha1-6-30).
-- totp_last_step is the last accepted time step: a code is accepted only for a later step.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_alg TEXT;
ALTER TABLE users ADD COLUMN totp_enrolled_at INTEGER;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
ALTER TABLE users ADD COLUMN password_changed_at INTEGER;

-- Idle timeout: last use of the session (updated at most once a minute). expires_at stays the
-- absolute end.
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;

-- Between a correct password and a correct code: server-side state named by a random token
-- (only its SM3 digest is stored). stage is 'enrol' (enrol_secret holds the offered secret) or
-- 'totp'.
CREATE TABLE login_challenges (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    enrol_secret TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX login_challenges_user ON login_challenges (user_id);

-- Failure counters shared by every process: throttle_key is 'account:<username>' or 'addr:<client>'.
-- An account key with locked_at set stays locked until an administrator clears it.
CREATE TABLE auth_throttle (
    throttle_key TEXT PRIMARY KEY NOT NULL,
    window_start INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    locked_at INTEGER
);

-- Bearer tokens for other systems: shown once, stored as a digest (hash_alg, e.g. sm3).
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    hash_alg TEXT NOT NULL,
    prefix TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    region_code TEXT REFERENCES regions (code),
    department_code TEXT REFERENCES departments (credit_code),
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_used_at INTEGER
);
