//! Protection of personal data at rest: field encryption with an AEAD cipher and a key id, and
//! a keyed blind index for exact lookup.
//!
//! * A stored value is text: `<alg>:<key_id>:<base64(nonce ‖ ciphertext ‖ tag)>`, e.g.
//!   `sm4-gcm:k2:3q2+7w…`. The algorithm is SM4-GCM (GB/T 32907 in GCM mode, 96-bit random
//!   nonce, 128-bit tag) by default; `aes-256-gcm` is the alternative. The associated data names
//!   the table, column and row (see [`field_aad`]), so a value copied to another column or row
//!   fails to decrypt instead of turning into someone else's data.
//! * A blind index is `hmac-sm3:<index_key_id>:<hex>`: HMAC-SM3 of a kind label and the
//!   normalised value under a separate index key. Equal values give equal indexes, so a column
//!   can be searched for one exact value without decrypting it.
//! * Keys come from configuration ([`KeyRing::from_env`]: the environment or a key file), never
//!   from the database. A ring holds any number of data keys; the last one is current and
//!   encrypts, all of them decrypt, which is what lets `yiwang keys rotate` run while serving.
//!
//! This crate does no I/O except reading a key file.

mod aead;
pub mod baseline;
mod error;
mod keyring;

pub use aead::{Alg, NONCE_LEN, TAG_LEN};
pub use error::CryptoError;
pub use keyring::{
    DATA_KEYS_ENV, INDEX_KEY_ENV, INDEX_PREFIX, KEY_FILE_ENV, KeyFile, KeyRing, KeySource,
};

/// The associated data of one stored field: `table.column#row`.
pub fn field_aad(table: &str, column: &str, row: i64) -> String {
    format!("{table}.{column}#{row}")
}

/// The key id of a stored value (`sm4-gcm:k2:…` → `k2`), if it has the stored form at all.
pub fn key_id_of(stored: &str) -> Option<&str> {
    let mut parts = stored.splitn(3, ':');
    let _alg = parts.next()?;
    let id = parts.next()?;
    parts.next()?;
    Some(id)
}
