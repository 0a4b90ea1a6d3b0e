//! The guide (办事指南) of one implementation version, turned into plain words for the page:
//! every element of the catalog entry, the materials table and the version line.

use super::{Ctx, Link, words};
use yiwang_domain::catalog::{Implementation, MaterialRequirement, online_instructions};
use yiwang_domain::enums::Channel;
use yiwang_i18n::tf;
use yiwang_store::{PublishedImplementation, Region};

/// A phone number as printed, and as a `tel:` link when it has enough digits.
#[derive(Debug, Clone)]
pub struct Phone {
    pub text: String,
    pub tel: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MaterialRow {
    pub name: String,
    pub issuer: String,
    pub paper: String,
    pub required: String,
    pub licence: String,
    pub notes: String,
}

/// The guide in plain words, one screen at the top of the page: what to bring, where, how
/// long, what it costs and whether it can be done online.
#[derive(Debug, Clone)]
pub struct Summary {
    /// 「全程网上办理，不用跑腿」 / 「可以网上申请，需到现场 1 次」 / 「需到窗口办理」.
    pub online: String,
    /// The mandatory materials by name.
    pub bring: Vec<String>,
    /// 「另有 2 项材料视情况提交」, when there are optional ones.
    pub optional_note: Option<String>,
    /// Where to go, or that there is nowhere to go.
    pub place: String,
    pub how_long: String,
    pub cost: String,
}

#[derive(Debug, Clone)]
pub struct Guide {
    pub summary: Summary,
    pub name: String,
    pub basic_code: String,
    pub impl_code: String,
    pub item_type: String,
    pub level: String,
    pub department: Link,
    pub region_path: Vec<Link>,
    pub legal_basis: String,
    pub conditions: String,
    /// 业务办理项: (kind, name).
    pub handling: Vec<(String, String)>,
    pub time_limits: String,
    pub case_type: String,
    pub visits: String,
    pub online_depth: String,
    pub channels: String,
    pub anywhere: String,
    pub fee_basis: Option<String>,
    pub audiences: String,
    pub themes: Vec<Link>,
    pub hall_address: String,
    pub hours: String,
    pub consult_phones: Vec<Phone>,
    pub complaint_phones: Vec<Phone>,
    pub result_name: String,
    pub extras: Vec<(String, String)>,
    pub materials: Vec<MaterialRow>,
    pub version_line: String,
}

/// Separators between several numbers in one phone field: ; ， ； 、 /.
const PHONE_SEPARATORS: [char; 6] = [';', ',', '/', '\u{FF1B}', '\u{FF0C}', '\u{3001}'];

pub fn phones(field: &str) -> Vec<Phone> {
    field
        .split(PHONE_SEPARATORS)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let dial: String = p
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+' || *c == '-')
                .collect();
            let digits = dial.chars().filter(char::is_ascii_digit).count();
            Phone {
                text: p.to_string(),
                tel: (digits >= 3).then(|| format!("tel:{dial}")),
            }
        })
        .collect()
}

/// One row of the materials table. For an item handled online without a visit the paper
/// columns say 「上传电子件」 and the counter-only instructions are left out.
fn material(ctx: &Ctx, m: &MaterialRequirement, no_visit: bool) -> MaterialRow {
    let lang = ctx.page.lang;
    let mut notes = if no_visit {
        online_instructions(&m.instructions)
    } else {
        m.instructions.clone()
    };
    for (k, v) in &m.extras {
        if v.trim().is_empty() {
            continue;
        }
        if !notes.is_empty() {
            notes.push_str(ctx.t("portal.sep").as_str());
        }
        notes.push_str(&format!("{k}{}{v}", ctx.t("portal.colon")));
    }
    MaterialRow {
        name: m.name.clone(),
        issuer: m.issuer.clone(),
        paper: if no_visit {
            ctx.t("portal.material.upload_online")
        } else {
            words::paper(lang, m.originals, m.copies)
        },
        required: ctx.t(if m.mandatory {
            "portal.material.mandatory"
        } else {
            "portal.material.optional"
        }),
        licence: if m.licence_type.trim().is_empty() {
            ctx.t(if no_visit {
                "portal.material.upload_scan"
            } else {
                "portal.material.no_licence"
            })
        } else {
            ctx.tf("portal.material.licence", "type", m.licence_type.trim())
        },
        notes,
    }
}

fn summary(ctx: &Ctx, i: &Implementation, time_limits: &str, fee: &str) -> Summary {
    let no_visit = i.handled_without_visit();
    let online_channel = i
        .channels
        .iter()
        .any(|c| matches!(c, Channel::Online | Channel::Mobile));
    let online = if no_visit {
        ctx.t("portal.summary.no_visit")
    } else if online_channel {
        words::counted(
            ctx.page.lang,
            "portal.summary.online_visits",
            u64::from(i.visits),
        )
    } else {
        ctx.t("portal.summary.counter_only")
    };
    let bring: Vec<String> = i
        .materials
        .iter()
        .filter(|m| m.mandatory)
        .map(|m| m.name.clone())
        .collect();
    let optional = i.materials.len().saturating_sub(bring.len());
    let place = if no_visit {
        ctx.t("portal.summary.nowhere")
    } else if i.hours.trim().is_empty() {
        i.hall_address.clone()
    } else {
        format!(
            "{}{}{}{}",
            i.hall_address,
            ctx.t("punct.open"),
            i.hours,
            ctx.t("punct.close")
        )
    };
    Summary {
        online,
        bring,
        optional_note: (optional > 0).then(|| {
            words::counted(
                ctx.page.lang,
                "portal.summary.optional",
                u64::try_from(optional).unwrap_or(u64::MAX),
            )
        }),
        place,
        how_long: time_limits.to_string(),
        cost: fee.to_string(),
    }
}

/// Everything the guide page prints about `p`; `path` is its region from the province down.
pub fn build(ctx: &Ctx, p: &PublishedImplementation, path: &[Region]) -> Guide {
    let lang = ctx.page.lang;
    let (s, i) = (&p.standard, &p.implementation);
    let date = p
        .published_at
        .map(|ms| ctx.page.date(&ms))
        .unwrap_or_default();
    let version_line = tf(
        lang,
        "portal.guide.version_line",
        &[("n", &p.version.to_string()), ("date", &date)],
    );
    let region_path = if path.is_empty() {
        vec![ctx.link(
            i.region.to_string(),
            &format!("/regions/{}", i.region.prefix()),
        )]
    } else {
        path.iter().map(|r| ctx.region_link(r)).collect()
    };
    let no_visit = i.handled_without_visit();
    let time_limits = words::time_limits(lang, i.case_type, i.promised_limit, i.statutory_limit);
    let fee = ctx.t(if i.charged {
        "portal.guide.charged"
    } else {
        "portal.guide.free"
    });
    Guide {
        summary: summary(ctx, i, &time_limits, &fee),
        name: s.name.clone(),
        basic_code: s.basic_code.to_string(),
        impl_code: i.code.to_string(),
        item_type: ctx.page.label(&s.item_type).to_string(),
        level: ctx.page.label(&i.level).to_string(),
        department: ctx.link(
            i.department_name.clone(),
            &format!("/departments/{}", i.department_code),
        ),
        region_path,
        legal_basis: s.legal_basis.clone(),
        conditions: i.acceptance_conditions.clone(),
        handling: i
            .handling_items
            .iter()
            .map(|h| (ctx.page.label(&h.kind).to_string(), h.name.clone()))
            .collect(),
        time_limits,
        case_type: ctx.page.label(&i.case_type).to_string(),
        visits: words::visits(lang, i64::from(i.visits)),
        online_depth: ctx.page.label(&i.online_depth).to_string(),
        channels: words::labels(lang, &i.channels),
        anywhere: match i.anywhere {
            Some(a) => ctx.page.label(&a).to_string(),
            None => ctx.t("portal.guide.anywhere_none"),
        },
        fee_basis: (i.charged && !i.fee_basis.trim().is_empty()).then(|| i.fee_basis.clone()),
        audiences: words::labels(lang, &i.audiences),
        themes: i
            .themes
            .iter()
            .map(|t| {
                ctx.link(
                    t.clone(),
                    &format!("/themes/{}", crate::link::encode_segment(t)),
                )
            })
            .collect(),
        hall_address: i.hall_address.clone(),
        hours: i.hours.clone(),
        consult_phones: phones(&i.consult_phone),
        complaint_phones: phones(&i.complaint_phone),
        result_name: i.result_name.clone(),
        extras: i
            .extras
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .cloned()
            .collect(),
        materials: i
            .materials
            .iter()
            .map(|m| material(ctx, m, no_visit))
            .collect(),
        version_line,
    }
}
