//! 实名核验 (`IdentityVerification`) sources behind one seam. In person at a counter or service
//! point is always available (the console's verification page and counter intake, recorded by
//! `yiwang_store::identity`); an external verifier confirms name + ID number + phone online
//! when one is configured; the population register (基础库) plugs into the same trait once
//! data sharing is built.
//!
//! Configuration (`identity_verifier`): unset or `none` — in person only; `file:<path>` — a
//! CSV of `id_number,name,phone` lines that count as confirmed (tests and demonstrations, not
//! for production); `http://…` — POSTs `{"id_number","name","phone"}` as JSON and reads
//! `{"result": "match" | "mismatch", "reference": "…"}`.

use crate::jobs::BoxFuture;
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;
use yiwang_store::applicants::Applicant;
use yiwang_store::identity::{IdentityClaim, VerificationRecord, VerificationSource};
use yiwang_store::{Actor, Store, StoreError};

/// What a verifier answers about one claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Name, ID number and phone belong together; `reference` is the verifier's record.
    Confirmed { reference: String },
    /// The source knows the number but not with this name or phone.
    Mismatch,
    /// This source cannot verify online (in person only).
    Unavailable,
}

/// A source that confirms identities online. `Err` is a failure of the source itself (down,
/// bad answer): the account stays unverified and may try again.
pub trait IdentityVerifier: Send + Sync {
    /// The name recorded with a confirmation (`identity_verifications.verifier`).
    fn name(&self) -> &str;
    /// Whether this source verifies online at all (the in-person-only default does not).
    fn is_online(&self) -> bool {
        true
    }
    fn check<'a>(&'a self, claim: &'a IdentityClaim) -> BoxFuture<'a, Result<Verdict, String>>;
    /// How a confirmation by this source is recorded.
    fn source(&self) -> VerificationSource {
        VerificationSource::External
    }
}

/// No online source: identities are verified in person only (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct InPersonOnly;

impl IdentityVerifier for InPersonOnly {
    fn name(&self) -> &str {
        "none"
    }
    fn is_online(&self) -> bool {
        false
    }
    fn check<'a>(&'a self, _claim: &'a IdentityClaim) -> BoxFuture<'a, Result<Verdict, String>> {
        Box::pin(async { Ok(Verdict::Unavailable) })
    }
}

/// Confirms the claims listed in a file (`id_number,name,phone` per line; `#` comments).
#[derive(Debug, Clone, Default)]
pub struct FileVerifier {
    known: HashSet<(String, String, String)>,
}

impl FileVerifier {
    pub fn parse(text: &str) -> Self {
        let known = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let mut parts = l.split(',').map(str::trim);
                let id = parts.next()?.to_ascii_uppercase();
                let name = parts.next()?.to_string();
                let phone = parts.next()?.to_string();
                Some((id, name, phone))
            })
            .collect();
        Self { known }
    }

    pub fn load(path: &Path) -> Result<Self, IdentityConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| IdentityConfigError::File(format!("{}: {e}", path.display())))?;
        Ok(Self::parse(&text))
    }
}

impl IdentityVerifier for FileVerifier {
    fn name(&self) -> &str {
        "file"
    }
    fn check<'a>(&'a self, claim: &'a IdentityClaim) -> BoxFuture<'a, Result<Verdict, String>> {
        let key = (
            claim.id.reveal().to_ascii_uppercase(),
            claim.name.trim().to_string(),
            claim.phone.reveal().to_string(),
        );
        let hit = self.known.contains(&key);
        Box::pin(async move {
            Ok(if hit {
                Verdict::Confirmed {
                    reference: "file".into(),
                }
            } else {
                Verdict::Mismatch
            })
        })
    }
}

/// Asks an HTTP/JSON service (inside the government network, or a relay to one).
#[derive(Debug, Clone)]
pub struct HttpVerifier {
    client: reqwest::Client,
    url: String,
}

impl HttpVerifier {
    pub fn new(url: &str, timeout: Duration) -> Result<Self, IdentityConfigError> {
        let url = url.trim();
        let ok = ["http://", "https://"]
            .iter()
            .any(|p| url.starts_with(p) && url.len() > p.len());
        if !ok {
            return Err(IdentityConfigError::BadSpec(url.to_string()));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .no_proxy()
            .build()
            .map_err(|e| IdentityConfigError::BadSpec(e.to_string()))?;
        Ok(Self {
            client,
            url: url.to_string(),
        })
    }
}

impl IdentityVerifier for HttpVerifier {
    fn name(&self) -> &str {
        "http"
    }
    fn check<'a>(&'a self, claim: &'a IdentityClaim) -> BoxFuture<'a, Result<Verdict, String>> {
        Box::pin(async move {
            let body = serde_json::json!({
                "id_number": claim.id.reveal(),
                "name": claim.name.trim(),
                "phone": claim.phone.reveal(),
            });
            let resp = self
                .client
                .post(&self.url)
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("request failed: {e}"))?;
            let status = resp.status();
            if !status.is_success() {
                return Err(format!("HTTP {}", status.as_u16()));
            }
            let answer: serde_json::Value =
                resp.json().await.map_err(|e| format!("bad answer: {e}"))?;
            match answer.get("result").and_then(|v| v.as_str()) {
                Some("match") => Ok(Verdict::Confirmed {
                    reference: answer
                        .get("reference")
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .chars()
                        .take(100)
                        .collect(),
                }),
                Some("mismatch") => Ok(Verdict::Mismatch),
                _ => Err("bad answer: no result".into()),
            }
        })
    }
}

/// A configuration problem of the verifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityConfigError {
    #[error("identity_verifier must be none, file:<path> or an http(s):// address: {0}")]
    BadSpec(String),
    #[error("cannot read the identity verifier file {0}")]
    File(String),
}

/// The verifier a configuration value names (see the module documentation).
pub fn verifier_from_config(
    spec: Option<&str>,
    timeout: Duration,
) -> Result<std::sync::Arc<dyn IdentityVerifier>, IdentityConfigError> {
    let spec = spec.map(str::trim).unwrap_or("");
    if spec.is_empty() || spec == "none" {
        return Ok(std::sync::Arc::new(InPersonOnly));
    }
    if let Some(path) = spec.strip_prefix("file:") {
        return Ok(std::sync::Arc::new(FileVerifier::load(Path::new(path))?));
    }
    Ok(std::sync::Arc::new(HttpVerifier::new(spec, timeout)?))
}

/// Asks `verifier` about the name, number and phone `applicant`'s account holds, and records a
/// confirmation. Returns the verdict; a source failure is logged and counts as unavailable.
pub async fn verify_online(
    store: &Store,
    verifier: &dyn IdentityVerifier,
    applicant: &Applicant,
    client: &str,
    now_ms: i64,
) -> Result<Verdict, StoreError> {
    if !verifier.is_online() {
        return Ok(Verdict::Unavailable);
    }
    let Some(claim) = store.identity_claim_of(applicant).await? else {
        return Ok(Verdict::Unavailable);
    };
    let verdict = match verifier.check(&claim).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(verifier = verifier.name(), error = %e, "identity verifier failed");
            Verdict::Unavailable
        }
    };
    if let Verdict::Confirmed { reference } = &verdict {
        let record = VerificationRecord {
            source: verifier.source(),
            verifier: verifier.name().to_string(),
            staff_id: None,
            place: reference.clone(),
            document: "online".into(),
        };
        store
            .verify_own_account(
                applicant,
                &record,
                &Actor::system(client.to_string()),
                now_ms,
            )
            .await?;
    }
    Ok(verdict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yiwang_domain::case::ApplicantId;
    use yiwang_domain::codes::Phone;

    fn claim(id: &str, name: &str, phone: &str) -> IdentityClaim {
        IdentityClaim {
            id: ApplicantId::parse(id).unwrap(),
            name: name.into(),
            legal_rep: None,
            phone: Phone::parse(phone).unwrap(),
        }
    }

    #[tokio::test]
    async fn the_file_verifier_confirms_only_listed_triples() {
        let v = FileVerifier::parse("# test\n11010519491231002x, 张三, 13800138000\n");
        let yes = v
            .check(&claim("11010519491231002X", "张三", "13800138000"))
            .await;
        assert!(matches!(yes, Ok(Verdict::Confirmed { .. })));
        let other_phone = v
            .check(&claim("11010519491231002X", "张三", "13900139000"))
            .await;
        assert_eq!(other_phone, Ok(Verdict::Mismatch));
        assert_eq!(
            InPersonOnly
                .check(&claim("11010519491231002X", "张三", "13800138000"))
                .await,
            Ok(Verdict::Unavailable)
        );
    }

    #[test]
    fn configuration_names_a_verifier() {
        let t = Duration::from_secs(1);
        assert_eq!(verifier_from_config(None, t).unwrap().name(), "none");
        assert_eq!(
            verifier_from_config(Some("none"), t).unwrap().name(),
            "none"
        );
        assert_eq!(
            verifier_from_config(Some("http://10.0.0.1/verify"), t)
                .unwrap()
                .name(),
            "http"
        );
        assert!(verifier_from_config(Some("ftp://x"), t).is_err());
        assert!(verifier_from_config(Some("file:/nonexistent/yiwang-ids.csv"), t).is_err());
    }
}
