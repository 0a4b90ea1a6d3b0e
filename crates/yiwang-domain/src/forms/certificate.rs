//! What a result certificate states, read from the form answers through the form's
//! [`CertificateSpec`]: the holder (the business for a business application, not the account
//! holder), its code, the certificate number's prefix and the licence's own lines.

use super::answers::{Answers, Value};
use super::model::{CertificateSpec, FormDefinition, Text};
use crate::codes::RegionCode;

/// The certificate's facts from one application's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    /// The holder named by the answers; `None`: the account holder.
    pub holder: Option<String>,
    /// The holder's code with its field's label (统一社会信用代码 …).
    pub holder_code: Option<(Text, String)>,
    pub number_prefix: String,
    /// Label and printed value of each answered line, in the spec's order.
    pub lines: Vec<(Text, String)>,
}

/// The certificate facts of `answers` under `def`, or `None` when the form maps none.
/// `region_name` names a region code (e.g. 天津市津南区咸水沽镇) for addresses.
pub fn certificate_facts(
    def: &FormDefinition,
    answers: &Answers,
    region_name: &dyn Fn(&RegionCode) -> Option<String>,
) -> Option<CertificateFacts> {
    let spec: &CertificateSpec = def.certificate.as_ref()?;
    let printed = |key: &str| -> Option<String> {
        let field = def.field(key)?;
        let v = answers.get(key)?;
        let text = match v {
            Value::Text(s) => s.trim().to_string(),
            Value::Number(n) => match &field.unit {
                Some(u) => format!("{n} {u}"),
                None => n.to_string(),
            },
            Value::Date(d) => d.to_string(),
            Value::Choice(_) | Value::Choices(_) => v
                .choices()
                .iter()
                .map(|c| field.option(c).map_or(c.as_str(), |o| o.label.zh.as_str()))
                .collect::<Vec<_>>()
                .join("、"),
            Value::ResidentId(r) => r.reveal().to_string(),
            Value::CreditCode(c) => c.as_str().to_string(),
            Value::Phone(p) => p.reveal().to_string(),
            Value::Address(a) => {
                let region = a.region.as_ref().and_then(region_name).unwrap_or_default();
                format!("{region}{}", a.detail.trim())
            }
            Value::Group(_) => return None,
        };
        Some(text).filter(|t| !t.is_empty())
    };
    Some(CertificateFacts {
        holder: spec.holder.as_deref().and_then(printed),
        holder_code: spec.holder_code.as_deref().and_then(|k| {
            let label = def.field(k)?.label.clone();
            printed(k).map(|v| (label, v))
        }),
        number_prefix: spec.number_prefix.clone(),
        lines: spec
            .lines
            .iter()
            .filter_map(|l| printed(&l.field).map(|v| (l.label.clone(), v)))
            .collect(),
    })
}
