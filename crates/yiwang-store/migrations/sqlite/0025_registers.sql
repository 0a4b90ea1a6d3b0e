-- Registers (基础库, issue #16): population, legal entities and e-licences held by the platform,
-- loaded by whole-file imports. Personal data is encrypted like applicants' columns (*_enc with
-- associated data `<table>.<field>#<id>`, *_idx an HMAC-SM3 blind index for exact lookup), so
-- the row id is known before the ciphertext is written.

-- Every import run: which register, how many rows, who and when.
CREATE TABLE register_imports (
    id INTEGER PRIMARY KEY,
    register TEXT NOT NULL,
    rows_written INTEGER NOT NULL,
    actor TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- 人口基础库: one row per resident ID (the blind index is the key).
CREATE TABLE register_people (
    id INTEGER PRIMARY KEY,
    id_number_idx TEXT NOT NULL UNIQUE,
    id_number_enc TEXT,
    name_enc TEXT,
    sex TEXT NOT NULL,
    birth_date_enc TEXT,
    address_enc TEXT,
    region_code TEXT NOT NULL,
    phone_enc TEXT,
    import_id INTEGER NOT NULL REFERENCES register_imports (id),
    updated_at INTEGER NOT NULL
);

-- 法人基础库: one row per credit code (public); the legal representative is personal data.
CREATE TABLE register_entities (
    id INTEGER PRIMARY KEY,
    credit_code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    legal_rep_name_enc TEXT,
    legal_rep_id_enc TEXT,
    legal_rep_id_idx TEXT,
    address TEXT NOT NULL,
    region_code TEXT NOT NULL,
    business_scope TEXT NOT NULL,
    status TEXT NOT NULL,
    established TEXT NOT NULL,
    import_id INTEGER NOT NULL REFERENCES register_imports (id),
    updated_at INTEGER NOT NULL
);
CREATE INDEX register_entities_rep ON register_entities (legal_rep_id_idx);

-- 电子证照库 (simple form): one row per licence type and number; the holder (a resident ID or
-- a credit code) is encrypted and found by its blind index.
CREATE TABLE register_licences (
    id INTEGER PRIMARY KEY,
    licence_type TEXT NOT NULL,
    number TEXT NOT NULL,
    holder_kind TEXT NOT NULL,
    holder_idx TEXT NOT NULL,
    holder_enc TEXT,
    holder_name_enc TEXT,
    issuer TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    status TEXT NOT NULL,
    import_id INTEGER NOT NULL REFERENCES register_imports (id),
    updated_at INTEGER NOT NULL,
    UNIQUE (licence_type, number)
);
CREATE INDEX register_licences_holder ON register_licences (holder_idx);
