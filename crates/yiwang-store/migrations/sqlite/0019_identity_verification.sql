-- 实名核验 (issue #13): an applicant account is unverified until a verification source confirms
-- its name, ID number and phone. verified_at is the latest confirmation; detached_at marks an
-- unverified account that lost its ID number to the verified owner (its id_number_idx is
-- cleared so the number is free, the encrypted value stays for the record).
ALTER TABLE applicants ADD COLUMN verified_at INTEGER;
ALTER TABLE applicants ADD COLUMN detached_at INTEGER;

-- Every confirmation: which source (in_person, external, register), who (staff user or the
-- verifier's name), where (counter or service point), by which document, and when.
CREATE TABLE identity_verifications (
    id INTEGER PRIMARY KEY,
    applicant_id INTEGER NOT NULL REFERENCES applicants (id),
    source TEXT NOT NULL,
    verifier TEXT NOT NULL,
    staff_id INTEGER REFERENCES users (id),
    place TEXT NOT NULL,
    document TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX identity_verifications_applicant ON identity_verifications (applicant_id);

-- Whether applying for an implementation needs a verified identity (default: yes).
ALTER TABLE implementations ADD COLUMN identity_required INTEGER NOT NULL DEFAULT 1;
