-- Document numbers: the issuing body's 文号 (津南市监许〔2026〕12号, numbered per department and
-- year) and certificate numbers (JY120112000001) come from counters drawn in the transaction
-- that issues the document, so a number is never given twice and a step that fails gives none.
-- Each document records its number and the digest printed on it (SM3 of what it states), which
-- the public verification page shows beside the digest of the PDF file.
CREATE TABLE document_counters (
    series TEXT PRIMARY KEY,
    last_serial BIGINT NOT NULL
);
ALTER TABLE documents ADD COLUMN doc_number TEXT;
ALTER TABLE documents ADD COLUMN printed_digest TEXT;
