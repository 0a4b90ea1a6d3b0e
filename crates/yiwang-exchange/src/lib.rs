//! The signed exchange between departments (X-Road's pattern, our own small protocol), without
//! I/O: the business envelope every request carries, its canonical bytes, SM2-over-SM3 seals on
//! requests and responses, the trust bundle of departments' public keys, a replay guard, and the
//! append-only hash-chained message log's pure functions. Transport (HTTP) and storage (SQL)
//! live elsewhere; both call these functions so what is signed and chained is defined once.

mod canon;
pub mod envelope;
pub mod log;
pub mod replay;
pub mod seal;

pub use envelope::{
    EndUser, Envelope, EnvelopeError, EnvelopeFields, MessageId, Party, Purpose, ServiceCode,
    SystemName,
};
pub use log::{
    BreakKind, ChainBreak, ChainVerifier, Checkpoint, Direction, LogEntry, NewLogEntry, OUTCOME_OK,
    Tail, append, verify_chain,
};
pub use replay::{ReplayGuard, Replayed, SeenIds, check_window};
pub use seal::{
    BundleError, KeyId, Seal, SealAlg, SealKey, SignedRequest, SignedResponse, TrustBundle,
    TrustedKey, VerifyError,
};

/// SM3 of `bytes`.
pub fn sm3(bytes: &[u8]) -> [u8; 32] {
    use sm3::Digest;
    sm3::Sm3::digest(bytes).into()
}

#[cfg(test)]
mod tests;
