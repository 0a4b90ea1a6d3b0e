-- Sign-in limits (issue 13). A lock now ends: locked_until is when, lock_count how many locks in
-- a row (each lasts longer; a complete sign-in, a password reset or an administrator starts
-- over). Locks taken before this migration end fifteen minutes after they began.
ALTER TABLE auth_throttle ADD COLUMN locked_until BIGINT;
ALTER TABLE auth_throttle ADD COLUMN lock_count BIGINT NOT NULL DEFAULT 0;
UPDATE auth_throttle SET locked_until = locked_at + 900000, lock_count = 1 WHERE locked_at IS NOT NULL;

-- Wrong codes per pending sign-in: counted before the code is checked, the sign-in ends at the
-- limit.
ALTER TABLE login_challenges ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE applicant_challenges ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;

-- The key offered for enrolment, encrypted (SM4-GCM, associated data
-- 'login_challenges.enrol#<token_hash>') when data keys are configured; enrol_secret then stays
-- empty.
ALTER TABLE login_challenges ADD COLUMN enrol_enc TEXT;
