-- 一件事: one application for a life event, made of one application (then one case) per item.
CREATE TABLE bundles (
    id INTEGER PRIMARY KEY,
    applicant_id INTEGER NOT NULL REFERENCES applicants (id),
    life_event TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX bundles_applicant ON bundles (applicant_id, created_at);
ALTER TABLE applications ADD COLUMN bundle_id INTEGER REFERENCES bundles (id);
CREATE INDEX applications_bundle ON applications (bundle_id);
