-- Full online handling (issue #4): applicants, applications (drafts), cases with their events,
-- parallel tasks and corrections, workflow definitions as data, case numbering.
-- Instants are epoch milliseconds; calendar days are days since 1970-01-01 (Beijing dates).

-- Applicants (申请人) are the public's own accounts, apart from staff accounts: a natural
-- person (resident ID) or a legal person (credit code). The identifier and the phone are
-- encrypted (`<alg>:<key_id>:<base64>`, associated data `applicants.<field>#<id>`) with an HMAC
-- blind index for sign-in and exact lookup. `handle` is an opaque name for the audit log.
CREATE TABLE applicants (
    id INTEGER PRIMARY KEY,
    handle TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    display_name TEXT NOT NULL,
    legal_rep TEXT,
    password_hash TEXT NOT NULL,
    id_number_enc TEXT,
    id_number_idx TEXT UNIQUE,
    phone_enc TEXT,
    phone_idx TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX applicants_phone_idx ON applicants (phone_idx);

CREATE TABLE applicant_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    applicant_id INTEGER NOT NULL REFERENCES applicants (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX applicant_sessions_applicant ON applicant_sessions (applicant_id);

-- Workflow definitions (JSON, validated on save) and where they are bound in the catalog.
CREATE TABLE workflow_definitions (
    id INTEGER PRIMARY KEY,
    wf_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (wf_key, version)
);
CREATE TABLE workflow_bindings (
    scope_level TEXT NOT NULL,
    scope_code TEXT NOT NULL,
    handling_kind TEXT NOT NULL DEFAULT '',
    definition_id INTEGER NOT NULL REFERENCES workflow_definitions (id),
    PRIMARY KEY (scope_level, scope_code, handling_kind)
);

-- An application before it becomes a case: the applicant's draft answers (encrypted JSON).
-- source: online | counter | agent; for counter and agent intake `staff_id` is who entered it.
CREATE TABLE applications (
    id INTEGER PRIMARY KEY,
    applicant_id INTEGER NOT NULL REFERENCES applicants (id),
    impl_code TEXT NOT NULL,
    catalog_version INTEGER NOT NULL,
    answers_enc TEXT,
    source TEXT NOT NULL,
    staff_id INTEGER REFERENCES users (id),
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX applications_applicant ON applications (applicant_id, updated_at);

-- Per-prefix sequences for case numbers (implementation code + Beijing date).
CREATE TABLE case_counters (
    prefix TEXT PRIMARY KEY NOT NULL,
    last_value INTEGER NOT NULL
);

-- 办件. `application_id` is unique: submitting the same application twice yields one case.
-- `version` guards concurrent actions (UPDATE … WHERE version = ?). The workflow definition is
-- pinned as it was at submission. Deadline columns are calendar days.
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    case_number TEXT NOT NULL UNIQUE,
    application_id INTEGER NOT NULL UNIQUE REFERENCES applications (id),
    applicant_id INTEGER NOT NULL REFERENCES applicants (id),
    impl_code TEXT NOT NULL,
    item_name TEXT NOT NULL,
    department_code TEXT NOT NULL,
    region_code TEXT NOT NULL,
    source TEXT NOT NULL,
    staff_id INTEGER REFERENCES users (id),
    workflow_key TEXT NOT NULL,
    workflow_version INTEGER NOT NULL,
    workflow_body TEXT NOT NULL,
    state TEXT NOT NULL,
    state_body TEXT NOT NULL,
    terminal INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    limit_unit TEXT NOT NULL,
    limit_amount INTEGER NOT NULL,
    submitted_at INTEGER NOT NULL,
    accepted_day INTEGER,
    due_day INTEGER,
    paused_since_day INTEGER,
    escalated_at INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE INDEX cases_applicant ON cases (applicant_id, submitted_at);
CREATE INDEX cases_department ON cases (department_code, terminal, due_day);
CREATE INDEX cases_region ON cases (region_code, terminal, due_day);

-- The case timeline. actor_kind: applicant | staff | system.
CREATE TABLE case_events (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id INTEGER,
    actor_name TEXT NOT NULL,
    opinion TEXT,
    detail TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);
CREATE INDEX case_events_at ON case_events (at, case_id, seq);

-- Parallel review tasks (并联审批), one per department.
CREATE TABLE case_tasks (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    task_key TEXT NOT NULL,
    department_code TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by INTEGER REFERENCES users (id),
    decided_at INTEGER,
    opinion TEXT,
    PRIMARY KEY (case_id, task_key)
);
CREATE INDEX case_tasks_department ON case_tasks (department_code, status);

-- 补正 / 一次性告知: one structured list per round; resolved when the applicant resubmits.
CREATE TABLE corrections (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    round INTEGER NOT NULL,
    items TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    requested_by INTEGER REFERENCES users (id),
    resolved_at INTEGER,
    PRIMARY KEY (case_id, round)
);
