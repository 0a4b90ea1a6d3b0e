//! `import N`: N synthetic implementations (4 materials each, real demo departments and regions)
//! written as catalog CSV, then parsed and imported into a fresh database with the demo loaded.

use crate::db;
use crate::report::{Report, secs};
use anyhow::{Context, bail};
use std::time::{Duration, Instant};
use yiwang_app::demo::{DEMO_DEPARTMENTS, DEMO_ITEMS, DEMO_MATERIALS, parse_departments};
use yiwang_domain::catalog::{CatalogEntry, MaterialRequirement};
use yiwang_domain::policy::CatalogScope;
use yiwang_domain::{BasicCode, ImplCode};

const BENCH: &str = "import";

/// N entries modelled on the demo catalog: each gets its own standard item (basic code
/// `9` + 8 digits), a department of the demo (with that department's region) and 4 materials.
pub fn synthetic_entries(n: usize) -> anyhow::Result<Vec<CatalogEntry>> {
    let templates: Vec<CatalogEntry> = yiwang_interchange::parse_csv(DEMO_ITEMS, DEMO_MATERIALS)
        .batch
        .entries
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    let departments = parse_departments(DEMO_DEPARTMENTS).map_err(|e| anyhow::anyhow!("{e}"))?;
    if templates.is_empty() || departments.is_empty() {
        bail!("the demo catalog is empty");
    }
    if n > 99_999_999 {
        bail!("at most 99,999,999 entries");
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut e = templates[i % templates.len()].clone();
        let dept = &departments[i % departments.len()];
        let basic = BasicCode::parse(&format!("9{i:08}")).map_err(|c| anyhow::anyhow!("{c}"))?;
        e.standard.basic_code = basic.clone();
        e.standard.name = format!("{} #{i}", e.standard.name);
        let imp = &mut e.implementation;
        imp.code = ImplCode::parse(&format!("{}{basic}001", dept.credit_code))
            .map_err(|c| anyhow::anyhow!("{c}"))?;
        imp.basic_code = basic;
        imp.department_code = dept.credit_code.clone();
        imp.department_name = dept.name.clone();
        imp.region = dept.region.clone();
        let base = imp
            .materials
            .first()
            .cloned()
            .unwrap_or(MaterialRequirement {
                name: "Application form".into(),
                issuer: String::new(),
                originals: 1,
                copies: 0,
                mandatory: true,
                licence_type: String::new(),
                instructions: String::new(),
                extras: Vec::new(),
            });
        let materials: Vec<MaterialRequirement> = (0..4)
            .map(|k| {
                imp.materials
                    .get(k)
                    .cloned()
                    .unwrap_or_else(|| MaterialRequirement {
                        name: format!("{} ({})", base.name, k + 1),
                        ..base.clone()
                    })
            })
            .collect();
        imp.materials = materials;
        out.push(e);
    }
    Ok(out)
}

pub async fn run(database_url: Option<&str>, n: usize) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let entries = synthetic_entries(n)?;
    let materials: usize = entries
        .iter()
        .map(|e| e.implementation.materials.len())
        .sum();
    report.info(
        BENCH,
        "implementations / materials",
        format!("{n} / {materials}"),
    );
    let t = Instant::now();
    let (items_csv, materials_csv) = yiwang_interchange::write_csv(&entries);
    report.info(
        BENCH,
        "write_csv",
        format!(
            "{} ({:.1} + {:.1} MB)",
            secs(t.elapsed()),
            items_csv.len() as f64 / 1e6,
            materials_csv.len() as f64 / 1e6
        ),
    );
    drop(entries);

    let bench_db = db::fresh(database_url, "import").await?;
    report.info(BENCH, "database", bench_db.backend);
    let store = bench_db.store.clone();
    let result = async {
        yiwang_app::demo::load_demo(&store, crate::now_ms())
            .await
            .map_err(|e| anyhow::anyhow!("loading the demo: {e}"))?;
        eprintln!("import: parsing and importing {n} implementations…");
        let t = Instant::now();
        let parsed = yiwang_interchange::parse_csv(&items_csv, &materials_csv);
        let parse = t.elapsed();
        if !parsed.is_clean() {
            bail!(
                "the synthetic file has {} problem(s), first: {:?}",
                parsed.issues.len(),
                parsed.issues.first()
            );
        }
        let scope = CatalogScope {
            all: true,
            grants: Vec::new(),
        };
        let actor = yiwang_store::Actor::system("bench");
        let t = Instant::now();
        let summary = yiwang_app::import_catalog(
            &store,
            parsed,
            &scope,
            &actor,
            crate::now_ms(),
            &mut |_| {},
        )
        .await
        .map_err(|e| match e {
            yiwang_app::ImportError::Invalid(issues) => {
                anyhow::anyhow!("{} problem(s), first: {:?}", issues.len(), issues.first())
            }
            yiwang_app::ImportError::Store(s) => anyhow::anyhow!("store: {s}"),
        })?;
        let import = t.elapsed();
        if summary.drafts_written != n {
            bail!("wrote {} drafts, expected {n}", summary.drafts_written);
        }
        report.info(BENCH, "parse_csv", secs(parse));
        report.info(
            BENCH,
            "import_catalog (validate + save drafts)",
            secs(import),
        );
        let total = parse + import;
        let target = Duration::from_secs_f64(10.0 * n as f64 / 10_000.0);
        report.check(
            BENCH,
            &format!("{n} implementations: parse + import"),
            secs(total),
            &format!("<= {}", secs(target)),
            total <= target,
        );
        let t = Instant::now();
        let published = store
            .publish_drafts(&scope, None, &actor, crate::now_ms())
            .await
            .context("publishing")?;
        report.info(
            BENCH,
            &format!("publish {} drafts", published.published),
            secs(t.elapsed()),
        );
        anyhow::Ok(())
    }
    .await;
    bench_db.close().await;
    result?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    #[test]
    fn synthetic_entries_are_distinct_and_have_four_materials() {
        let v = super::synthetic_entries(300).unwrap();
        let codes: std::collections::HashSet<_> =
            v.iter().map(|e| e.implementation.code.clone()).collect();
        assert_eq!(codes.len(), 300);
        assert!(v.iter().all(|e| e.implementation.materials.len() == 4));
        let (items, materials) = yiwang_interchange::write_csv(&v);
        let parsed = yiwang_interchange::parse_csv(&items, &materials);
        assert!(parsed.is_clean(), "{:?}", parsed.issues.first());
        assert_eq!(parsed.batch.entries.len(), 300);
    }
}
