-- Foundation: regions, departments, accounts, sessions, the catalog.
-- Shared types only: INTEGER (64-bit), TEXT. Booleans are 0/1, instants epoch milliseconds.

CREATE TABLE regions (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    level INTEGER NOT NULL,
    parent_code TEXT
);
CREATE INDEX regions_parent ON regions (parent_code, code);

CREATE TABLE departments (
    id INTEGER PRIMARY KEY,
    credit_code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions (code),
    created_at INTEGER NOT NULL
);
CREATE INDEX departments_region ON departments (region_code, name);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE role_grants (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    region_code TEXT REFERENCES regions (code),
    department_code TEXT REFERENCES departments (credit_code)
);
CREATE INDEX role_grants_user ON role_grants (user_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE standard_items (
    basic_code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    item_type TEXT NOT NULL,
    level TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX standard_items_name ON standard_items (name);

CREATE TABLE implementations (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    basic_code TEXT NOT NULL REFERENCES standard_items (basic_code),
    department_code TEXT NOT NULL REFERENCES departments (credit_code),
    department_name TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions (code),
    acceptance_conditions TEXT NOT NULL,
    statutory_amount INTEGER NOT NULL,
    statutory_unit TEXT NOT NULL,
    promised_amount INTEGER NOT NULL,
    promised_unit TEXT NOT NULL,
    case_type TEXT NOT NULL,
    visits INTEGER NOT NULL,
    online_depth TEXT NOT NULL,
    charged INTEGER NOT NULL,
    fee_basis TEXT NOT NULL,
    channels TEXT NOT NULL,
    anywhere TEXT,
    hall_address TEXT NOT NULL,
    hours TEXT NOT NULL,
    consult_phone TEXT NOT NULL,
    complaint_phone TEXT NOT NULL,
    result_name TEXT NOT NULL,
    extras TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by INTEGER REFERENCES users (id),
    published_at INTEGER,
    published_by INTEGER REFERENCES users (id),
    UNIQUE (code, version)
);
CREATE UNIQUE INDEX implementations_one_draft ON implementations (code) WHERE status = 'draft';
CREATE UNIQUE INDEX implementations_one_published ON implementations (code) WHERE status = 'published';
CREATE INDEX implementations_region ON implementations (status, region_code, code);
CREATE INDEX implementations_department ON implementations (status, department_code, code);
CREATE INDEX implementations_standard ON implementations (status, basic_code, code);

CREATE TABLE implementation_audiences (
    implementation_id INTEGER NOT NULL REFERENCES implementations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    audience TEXT NOT NULL,
    PRIMARY KEY (implementation_id, position)
);
CREATE INDEX implementation_audiences_by ON implementation_audiences (audience, implementation_id);

CREATE TABLE implementation_themes (
    implementation_id INTEGER NOT NULL REFERENCES implementations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    theme TEXT NOT NULL,
    PRIMARY KEY (implementation_id, position)
);
CREATE INDEX implementation_themes_by ON implementation_themes (theme, implementation_id);

CREATE TABLE materials (
    implementation_id INTEGER NOT NULL REFERENCES implementations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    issuer TEXT NOT NULL,
    originals INTEGER NOT NULL,
    copies INTEGER NOT NULL,
    mandatory INTEGER NOT NULL,
    licence_type TEXT NOT NULL,
    instructions TEXT NOT NULL,
    extras TEXT NOT NULL,
    PRIMARY KEY (implementation_id, position)
);

CREATE TABLE handling_items (
    implementation_id INTEGER NOT NULL REFERENCES implementations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (implementation_id, position)
);

-- Bumped on every publish so that other processes drop cached catalog reads.
CREATE TABLE catalog_generation (
    id INTEGER PRIMARY KEY NOT NULL,
    generation INTEGER NOT NULL
);
INSERT INTO catalog_generation (id, generation) VALUES (1, 0);
