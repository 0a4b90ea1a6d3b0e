-- Applicants may turn on a one-time code (TOTP) after the password. The secret is encrypted
-- like other personal data (`applicants.totp#<id>`); totp_last_step stops a code being reused.
ALTER TABLE applicants ADD COLUMN totp_enc TEXT;
ALTER TABLE applicants ADD COLUMN totp_last_step INTEGER;

-- Between a correct password and the code: named by a random token (only its SM3 digest kept).
CREATE TABLE applicant_challenges (
    token_hash TEXT PRIMARY KEY NOT NULL,
    applicant_id INTEGER NOT NULL REFERENCES applicants (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX applicant_challenges_applicant ON applicant_challenges (applicant_id);
