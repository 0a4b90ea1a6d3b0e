-- Password reset (issue #3).
--
-- Applicants who forgot their password prove the registered phone with a six-digit code sent
-- by SMS (through the outbox). Only a keyed digest of the code is kept (HMAC-SM3 under the
-- index key, bound to the ticket), and the ticket the browser holds is kept as its SM3 digest.
-- A code is live while closed_at is NULL, expires_at is ahead and attempts < 5; it is closed
-- when used, locked, or replaced by a newer request.
CREATE TABLE password_reset_codes (
    id INTEGER PRIMARY KEY,
    ticket_hash TEXT NOT NULL UNIQUE,
    applicant_id INTEGER NOT NULL REFERENCES applicants (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    outbox_id INTEGER,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    closed_at INTEGER
);
CREATE INDEX password_reset_codes_applicant ON password_reset_codes (applicant_id);
CREATE INDEX password_reset_codes_expires ON password_reset_codes (expires_at);

-- A staff password set by an administrator is temporary: the next sign-in must choose a new
-- one before any session starts.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
