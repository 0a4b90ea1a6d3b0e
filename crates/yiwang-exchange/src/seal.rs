//! Seals (a department's signature) on requests and responses, and their verification against a
//! trust bundle. Every seal names its algorithm and key (`sm2-sm3:<key id>:<base64 signature>`),
//! so other algorithms can be added without ambiguity. Verification fails closed: an unknown key,
//! an algorithm the key is not registered for, a key of another department, a bad signature or a
//! digest that does not match are all refusals, each with its own reason.

use crate::canon::Canon;
use crate::envelope::{Envelope, EnvelopeError, MessageId};
use crate::sm3;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use sm2::dsa::signature::{Signer, Verifier};
use std::collections::BTreeMap;
use std::fmt;
use yiwang_domain::codes::CreditCode;

/// The SM2 distinguishing identifier: the default of GM/T 0009, so other SM2 implementations
/// verify our seals without configuration.
const DIST_ID: &str = "1234567812345678";

/// Signature algorithms. Only SM2 over SM3 today; the name is part of every seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SealAlg {
    #[serde(rename = "sm2-sm3")]
    Sm2Sm3,
}

impl SealAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sm2Sm3 => "sm2-sm3",
        }
    }
    pub fn parse(s: &str) -> Result<Self, VerifyError> {
        match s {
            "sm2-sm3" => Ok(Self::Sm2Sm3),
            _ => Err(VerifyError::UnsupportedAlgorithm),
        }
    }
}

/// Why a seal or a message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the seal is not of the form alg:key-id:base64")]
    Malformed,
    #[error("the seal's algorithm is not supported")]
    UnsupportedAlgorithm,
    #[error("the seal's key is not in the trust bundle")]
    UnknownKey,
    #[error("the key is registered for another algorithm")]
    WrongAlgorithm,
    #[error("the key belongs to another department than the one named in the envelope")]
    WrongSigner,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the body does not match its digest")]
    BodyDigest,
    #[error("the response does not answer this request (request digest differs)")]
    RequestDigest,
    #[error("the response names another message id")]
    MessageId,
}

/// A key id as published in the trust bundle, e.g. `jn-scjg-2026`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    pub fn parse(s: &str) -> Result<Self, EnvelopeError> {
        // Same characters as a message id; no ':' so the seal's text splits unambiguously.
        MessageId::parse(s).map(|_| Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for KeyId {
    type Error = EnvelopeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<KeyId> for String {
    fn from(k: KeyId) -> String {
        k.0
    }
}

/// One signature with what is needed to check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    pub alg: SealAlg,
    pub key_id: KeyId,
    pub signature: Vec<u8>,
}

impl fmt::Display for Seal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.alg.as_str(),
            self.key_id.as_str(),
            B64.encode(&self.signature)
        )
    }
}

impl Seal {
    /// Reads `alg:key-id:base64`; an unknown algorithm is refused here.
    pub fn parse(s: &str) -> Result<Self, VerifyError> {
        let mut parts = s.splitn(3, ':');
        let (Some(alg), Some(key), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(VerifyError::Malformed);
        };
        let alg = SealAlg::parse(alg)?;
        let key_id = KeyId::parse(key).map_err(|_| VerifyError::Malformed)?;
        let signature = B64.decode(sig).map_err(|_| VerifyError::Malformed)?;
        Ok(Self {
            alg,
            key_id,
            signature,
        })
    }
}

/// A department's signing key (from configuration, never the database).
pub struct SealKey {
    key_id: KeyId,
    org: CreditCode,
    key: sm2::dsa::SigningKey,
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealKey({}, {})", self.key_id.as_str(), self.org)
    }
}

impl SealKey {
    /// An SM2 key from its 32-byte secret scalar.
    pub fn sm2_from_secret(key_id: KeyId, org: CreditCode, secret: &[u8]) -> Option<Self> {
        let key = sm2::dsa::SigningKey::from_slice(DIST_ID, secret).ok()?;
        Some(Self { key_id, org, key })
    }

    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The public half, as the trust bundle publishes it.
    pub fn trusted_key(&self) -> TrustedKey {
        TrustedKey {
            org: self.org.clone(),
            alg: SealAlg::Sm2Sm3,
            public_key: self.key.verifying_key().to_sec1_bytes().into_vec(),
        }
    }

    fn seal(&self, bytes: &[u8]) -> Seal {
        let sig: sm2::dsa::Signature = self.key.sign(bytes);
        Seal {
            alg: SealAlg::Sm2Sm3,
            key_id: self.key_id.clone(),
            signature: sig.to_vec(),
        }
    }

    /// Seals a retention checkpoint of this department's message log.
    pub fn sign_checkpoint(&self, cp: &crate::log::Checkpoint) -> Seal {
        self.seal(&cp.canonical_bytes())
    }

    /// Seals a request: the envelope and the digest of the body.
    pub fn sign_request(&self, envelope: Envelope, body: &[u8]) -> SignedRequest {
        let body_digest = sm3(body);
        let seal = self.seal(&request_bytes(&envelope, &body_digest));
        SignedRequest {
            envelope,
            body_digest,
            seal,
        }
    }

    /// Seals the answer to `request`: it carries the request's digest, so it cannot be taken
    /// for the answer to another request.
    pub fn sign_response(&self, request: &SignedRequest, body: &[u8]) -> SignedResponse {
        let message_id = request.envelope.message_id().clone();
        let request_digest = request.digest();
        let body_digest = sm3(body);
        let seal = self.seal(&response_bytes(&message_id, &request_digest, &body_digest));
        SignedResponse {
            message_id,
            request_digest,
            body_digest,
            seal,
        }
    }
}

fn request_bytes(envelope: &Envelope, body_digest: &[u8; 32]) -> Vec<u8> {
    Canon::new("yiwang-exchange/request/v1")
        .bytes(&envelope.canonical_bytes())
        .bytes(body_digest)
        .finish()
}

fn response_bytes(id: &MessageId, request_digest: &[u8; 32], body_digest: &[u8; 32]) -> Vec<u8> {
    Canon::new("yiwang-exchange/response/v1")
        .str(id.as_str())
        .bytes(request_digest)
        .bytes(body_digest)
        .finish()
}

/// A sealed request: the envelope, the SM3 digest of the body, the requester's seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub envelope: Envelope,
    pub body_digest: [u8; 32],
    pub seal: Seal,
}

impl SignedRequest {
    /// The request's digest (what the response carries): SM3 over the envelope, the body
    /// digest and the seal, so it pins the exact signed request.
    pub fn digest(&self) -> [u8; 32] {
        sm3(&Canon::new("yiwang-exchange/request-digest/v1")
            .bytes(&self.envelope.canonical_bytes())
            .bytes(&self.body_digest)
            .str(&self.seal.to_string())
            .finish())
    }
}

/// A sealed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedResponse {
    pub message_id: MessageId,
    pub request_digest: [u8; 32],
    pub body_digest: [u8; 32],
    pub seal: Seal,
}

/// A published public key: which department it belongs to and for which algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKey {
    pub org: CreditCode,
    pub alg: SealAlg,
    /// SEC1 encoding of the SM2 public point.
    #[serde(with = "b64")]
    pub public_key: Vec<u8>,
}

mod b64 {
    use super::B64;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        B64.decode(s).map_err(serde::de::Error::custom)
    }
}

/// The departments' public keys by key id. Published as JSON (`{"keys": {"<id>": {...}}}`);
/// the e-licence work reads the same bundle.
#[derive(Debug, Clone, Default)]
pub struct TrustBundle {
    keys: BTreeMap<KeyId, (TrustedKey, sm2::dsa::VerifyingKey)>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BundleFile {
    keys: BTreeMap<KeyId, TrustedKey>,
}

/// Why a trust bundle could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("trust bundle is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    #[error("key {0} is not a valid public key for its algorithm")]
    BadKey(String),
}

impl TrustBundle {
    /// Adds (or replaces) a key; refuses bytes that are not a valid public key.
    pub fn insert(&mut self, key_id: KeyId, key: TrustedKey) -> Result<(), BundleError> {
        let vk = match key.alg {
            SealAlg::Sm2Sm3 => sm2::dsa::VerifyingKey::from_sec1_bytes(DIST_ID, &key.public_key)
                .map_err(|_| BundleError::BadKey(key_id.as_str().to_string()))?,
        };
        self.keys.insert(key_id, (key, vk));
        Ok(())
    }

    pub fn get(&self, key_id: &KeyId) -> Option<&TrustedKey> {
        self.keys.get(key_id).map(|(k, _)| k)
    }

    pub fn to_json(&self) -> String {
        let file = BundleFile {
            keys: self
                .keys
                .iter()
                .map(|(id, (k, _))| (id.clone(), k.clone()))
                .collect(),
        };
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Result<Self, BundleError> {
        let file: BundleFile = serde_json::from_str(s)?;
        let mut b = Self::default();
        for (id, k) in file.keys {
            b.insert(id, k)?;
        }
        Ok(b)
    }

    /// Checks `seal` over `bytes` as a seal of department `org`.
    pub fn verify_seal(
        &self,
        seal: &Seal,
        org: &CreditCode,
        bytes: &[u8],
    ) -> Result<(), VerifyError> {
        let (key, vk) = self.keys.get(&seal.key_id).ok_or(VerifyError::UnknownKey)?;
        if key.alg != seal.alg {
            return Err(VerifyError::WrongAlgorithm);
        }
        if &key.org != org {
            return Err(VerifyError::WrongSigner);
        }
        let sig = sm2::dsa::Signature::from_slice(&seal.signature)
            .map_err(|_| VerifyError::BadSignature)?;
        vk.verify(bytes, &sig)
            .map_err(|_| VerifyError::BadSignature)
    }

    /// Checks a checkpoint's seal: by a trusted key, of department `org`.
    pub fn verify_checkpoint(
        &self,
        cp: &crate::log::Checkpoint,
        seal: &Seal,
        org: &CreditCode,
    ) -> Result<(), VerifyError> {
        self.verify_seal(seal, org, &cp.canonical_bytes())
    }

    /// The provider's check of an incoming request and its body: sealed by the requester's
    /// department, body as digested.
    pub fn verify_request(&self, req: &SignedRequest, body: &[u8]) -> Result<(), VerifyError> {
        if sm3(body) != req.body_digest {
            return Err(VerifyError::BodyDigest);
        }
        self.verify_request_seal(req)
    }

    /// The request's seal over its envelope and body digest (no body needed: the message log
    /// keeps digests, not bodies).
    pub fn verify_request_seal(&self, req: &SignedRequest) -> Result<(), VerifyError> {
        let bytes = request_bytes(&req.envelope, &req.body_digest);
        self.verify_seal(&req.seal, &req.envelope.requester().org, &bytes)
    }

    /// The requester's check of the answer to `req`: same message, carries this request's
    /// digest, sealed by the provider's department, body as digested.
    pub fn verify_response(
        &self,
        req: &SignedRequest,
        resp: &SignedResponse,
        body: &[u8],
    ) -> Result<(), VerifyError> {
        if &resp.message_id != req.envelope.message_id() {
            return Err(VerifyError::MessageId);
        }
        if resp.request_digest != req.digest() {
            return Err(VerifyError::RequestDigest);
        }
        if sm3(body) != resp.body_digest {
            return Err(VerifyError::BodyDigest);
        }
        self.verify_response_seal(req, resp)
    }

    /// The response's seal, its message id and request digest, without the body.
    pub fn verify_response_seal(
        &self,
        req: &SignedRequest,
        resp: &SignedResponse,
    ) -> Result<(), VerifyError> {
        if &resp.message_id != req.envelope.message_id() {
            return Err(VerifyError::MessageId);
        }
        if resp.request_digest != req.digest() {
            return Err(VerifyError::RequestDigest);
        }
        let bytes = response_bytes(&resp.message_id, &resp.request_digest, &resp.body_digest);
        self.verify_seal(&resp.seal, &req.envelope.provider().org, &bytes)
    }
}
