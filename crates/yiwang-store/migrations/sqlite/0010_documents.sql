-- Documents (文书) issued for cases: notices, decisions and result certificates (issue #4).
-- verify_code: 20 base32 characters (100 random bits) printed on the document and in its QR
-- address; the public verification page looks documents up by it. notice_json: everything the
-- PDF was rendered from, so it can be rendered again byte for byte; digest: of the PDF bytes,
-- with its algorithm in alg (sm3 by default), hex. status: valid | revoked. Instants are epoch
-- milliseconds.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    verify_code TEXT NOT NULL UNIQUE,
    case_number TEXT NOT NULL,
    kind TEXT NOT NULL,
    department_credit_code TEXT NOT NULL,
    department_name TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
    revoked_at INTEGER,
    revoked_reason TEXT,
    alg TEXT NOT NULL,
    digest TEXT NOT NULL,
    notice_json TEXT NOT NULL
);
CREATE INDEX documents_case ON documents (case_number, id);
