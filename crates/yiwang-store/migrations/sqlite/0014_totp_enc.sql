-- Staff TOTP secrets encrypted at rest (SM4-GCM, `users.totp#<id>`) when data keys are
-- configured: totp_secret then holds the marker 'enc' and the secret is in totp_enc. Accounts
-- enrolled before (or without keys) keep the plain secret until their code is reset.
ALTER TABLE users ADD COLUMN totp_enc TEXT;
