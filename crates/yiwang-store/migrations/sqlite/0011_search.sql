-- Search terms (synonyms, dictionary words, stop words) and 一件事 life-event definitions:
-- data that administrators edit; the seed list is loaded once (search_data_state.seeded).
CREATE TABLE search_terms (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    phrase TEXT NOT NULL,
    expansion TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    UNIQUE (kind, phrase)
);

CREATE TABLE life_events (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    region_code TEXT NOT NULL,
    definition TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE search_data_state (
    id INTEGER PRIMARY KEY NOT NULL,
    generation INTEGER NOT NULL,
    seeded INTEGER NOT NULL
);
INSERT INTO search_data_state (id, generation, seeded) VALUES (1, 0, 0);
