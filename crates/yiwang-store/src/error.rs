use yiwang_domain::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL must start with sqlite: or postgres://")]
    UnsupportedUrl,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Domain(ErrorCode),
    #[error(
        "no data keys are configured (YIWANG_DATA_KEYS + YIWANG_INDEX_KEY, or YIWANG_KEY_FILE)"
    )]
    NoKeys,
    /// The shared transaction of a group commit failed; the write was not made.
    #[error("grouped write failed: {0}")]
    Batch(String),
    #[error("personal data: {0}")]
    Crypto(#[from] yiwang_crypto::CryptoError),
}

impl StoreError {
    /// The closed error code shown to users; database trouble is `internal`.
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::Domain(c) => *c,
            StoreError::Db(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                ErrorCode::Conflict
            }
            _ => ErrorCode::Internal,
        }
    }
}

impl From<ErrorCode> for StoreError {
    fn from(c: ErrorCode) -> Self {
        StoreError::Domain(c)
    }
}
