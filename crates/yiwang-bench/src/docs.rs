//! `docs`: PDF notices rendered per second (layout, font subset, QR code, compression) on one
//! core and on all cores, and their sizes. No database.

use crate::report::Report;
use std::hint::black_box;
use std::time::{Duration, Instant};
use yiwang_docs::{CorrectionEntry, DocumentKind, LicenceInfo, Notice, render_pdf};
use yiwang_domain::calendar::CivilDate;

const BENCH: &str = "documents";

fn date(y: i32, m: u32, d: u32) -> anyhow::Result<CivilDate> {
    CivilDate::from_ymd(y, m, d).ok_or_else(|| anyhow::anyhow!("bad date"))
}

/// A realistic notice of `kind`; `i` varies the case number so no two are alike.
fn notice(kind: DocumentKind, i: u64) -> anyhow::Result<Notice> {
    let corrections = (1..=3)
        .map(|n| CorrectionEntry {
            subject: format!("申请材料第{n}项"),
            problem: "复印件不清晰，无法辨认，请上传清晰的彩色扫描件，并由法定代表人签字。".into(),
        })
        .collect();
    Ok(Notice {
        kind,
        lang: yiwang_i18n::Lang::Zh,
        case_number: format!("1112011200001-20260305-{i:06}"),
        item_name: "食品经营许可（新办）".into(),
        department_name: "天津市津南区行政审批局".into(),
        department_credit_code: "11120112MB1W167324".into(),
        applicant_name: "天津市津南区小站稻香餐饮有限公司".into(),
        issued_on: date(2026, 3, 20)?,
        accepted_on: Some(date(2026, 3, 5)?),
        due_on: Some(date(2026, 3, 27)?),
        opinion: Some("经审查，符合要求。".into()),
        corrections,
        verify_url: format!("https://zwfw.example.gov.cn/verify/K7Q2M9X4TP3B6W{i:06}"),
        verify_code: format!("K7Q2M9X4TP3B6W{i:06}"),
        licence: Some(LicenceInfo {
            title: Some("食品经营许可证".into()),
            number: format!("JY1120112{i:07}"),
            valid_from: date(2026, 3, 20)?,
            valid_until: Some(date(2031, 3, 19)?),
            holder: None,
            holder_code: None,
            lines: Vec::new(),
        }),
        doc_number: Some(format!("津南审批许〔2026〕{i}号")),
        seal: Some("天津市津南区行政审批局".into()),
        digest: Some("a1b2c3d4".repeat(8)),
    })
}

/// Renders for about `budget` on `threads` threads; returns (notices/s, bytes of the last one).
fn rate(kind: DocumentKind, threads: usize, budget: Duration) -> anyhow::Result<(f64, usize)> {
    let started = Instant::now();
    let results: Vec<anyhow::Result<(u64, usize)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || -> anyhow::Result<(u64, usize)> {
                    let mut n = 0u64;
                    let mut size = 0;
                    while started.elapsed() < budget {
                        let doc = notice(kind, t as u64 * 1_000_000 + n)?;
                        size = black_box(render_pdf(&doc)?).len();
                        n += 1;
                    }
                    Ok((n, size))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("render thread panicked"))?
            })
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut total = 0;
    let mut size = 0;
    for r in results {
        let (n, s) = r?;
        total += n;
        size = s;
    }
    Ok((total as f64 / elapsed, size))
}

pub fn run(seconds: f64) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let kinds = [
        DocumentKind::Acceptance,
        DocumentKind::Correction,
        DocumentKind::Certificate,
    ];
    let budget = Duration::from_secs_f64(seconds.clamp(0.1, 600.0) / (2 * kinds.len()) as f64);
    // Warm-up: the font is parsed once per process.
    render_pdf(&notice(DocumentKind::Acceptance, 0)?)?;
    for kind in kinds {
        let (one, size) = rate(kind, 1, budget)?;
        let (all, _) = rate(kind, cores, budget)?;
        report.info(
            BENCH,
            &format!("{} PDF, 1 core", kind.key()),
            format!(
                "{one:.0} notices/s ({:.2} ms each), {:.1} KB",
                1e3 / one,
                size as f64 / 1024.0
            ),
        );
        report.info(
            BENCH,
            &format!("{} PDF, {cores} cores", kind.key()),
            format!("{all:.0} notices/s"),
        );
    }
    Ok(report)
}
