-- Application form definitions (JSON, validated on save and on load), versioned per place in
-- the catalog: an implementation (scope_level 'implementation', scope_code = 实施编码) or a
-- standard item ('standard_item', 基本编码) as the fallback. Rows are never updated: each save
-- adds the next version; the highest version is the current one.
CREATE TABLE form_definitions (
    id INTEGER PRIMARY KEY,
    scope_level TEXT NOT NULL,
    scope_code TEXT NOT NULL,
    version INTEGER NOT NULL,
    form_key TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (scope_level, scope_code, version)
);
