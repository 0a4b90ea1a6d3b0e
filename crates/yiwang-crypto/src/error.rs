/// Why a value could not be encrypted or decrypted, or keys could not be loaded.
///
/// Decryption never returns garbage: a wrong key, a tampered value or a value moved to another
/// column or row is an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("stored value is not in the form alg:key_id:base64")]
    Malformed,
    #[error("unknown algorithm {0}")]
    UnknownAlgorithm(String),
    #[error("key {0} is not in the key ring")]
    UnknownKey(String),
    #[error("value failed authentication (wrong key, altered, or moved to another field)")]
    Authentication,
    #[error("decrypted value is not UTF-8")]
    NotText,
    #[error("bad key specification: {0}")]
    BadKeySpec(String),
    #[error("key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
}
