-- Personal data of staff accounts, encrypted at rest (issue #3).
-- *_enc: `<alg>:<key_id>:<base64(nonce||ciphertext||tag)>` (sm4-gcm by default), associated data
-- `users.<column>#<id>`; *_idx: `hmac-sm3:<index_key_id>:<hex>` blind index of the normalised
-- value, for exact lookup. Keys live in configuration, never in this database.
ALTER TABLE users ADD COLUMN phone_enc TEXT;
ALTER TABLE users ADD COLUMN phone_idx TEXT;
ALTER TABLE users ADD COLUMN id_number_enc TEXT;
ALTER TABLE users ADD COLUMN id_number_idx TEXT;
CREATE INDEX users_phone_idx ON users (phone_idx);
CREATE INDEX users_id_number_idx ON users (id_number_idx);
