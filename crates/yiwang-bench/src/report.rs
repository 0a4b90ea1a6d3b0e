//! The figures of a run as a plain-text table, with the target of each figure where it has one.

#[derive(Debug, Clone)]
pub struct Row {
    pub bench: String,
    pub metric: String,
    pub value: String,
    pub target: String,
    /// `Some(true)` met, `Some(false)` missed, `None` informational.
    pub met: Option<bool>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn info(&mut self, bench: &str, metric: &str, value: impl Into<String>) {
        self.rows.push(Row {
            bench: bench.into(),
            metric: metric.into(),
            value: value.into(),
            target: String::new(),
            met: None,
        });
    }
    pub fn check(
        &mut self,
        bench: &str,
        metric: &str,
        value: impl Into<String>,
        target: &str,
        met: bool,
    ) {
        self.rows.push(Row {
            bench: bench.into(),
            metric: metric.into(),
            value: value.into(),
            target: target.into(),
            met: Some(met),
        });
    }
    pub fn note(&mut self, n: impl Into<String>) {
        self.notes.push(n.into());
    }
    pub fn extend(&mut self, other: Report) {
        self.rows.extend(other.rows);
        self.notes.extend(other.notes);
    }
    pub fn missed(&self) -> usize {
        self.rows.iter().filter(|r| r.met == Some(false)).count()
    }

    /// The table, columns padded to the widest cell (by characters).
    pub fn render(&self) -> String {
        let header = ["benchmark", "metric", "value", "target", "result"];
        let cells: Vec<[String; 5]> = self
            .rows
            .iter()
            .map(|r| {
                let verdict = match r.met {
                    Some(true) => "ok",
                    Some(false) => "MISSED",
                    None => "",
                };
                [
                    r.bench.clone(),
                    r.metric.clone(),
                    r.value.clone(),
                    r.target.clone(),
                    verdict.into(),
                ]
            })
            .collect();
        let mut width = header.map(|h| h.chars().count());
        for row in &cells {
            for (w, c) in width.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cols: [&str; 5]| {
            let mut s = String::new();
            for (i, (c, w)) in cols.iter().zip(width).enumerate() {
                let pad = w.saturating_sub(c.chars().count());
                // Numbers (the value column) are right-aligned.
                if i == 2 {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    s.push_str(&" ".repeat(pad));
                }
                s.push_str("  ");
            }
            s.trim_end().to_string()
        };
        let mut out = String::new();
        out.push_str(&line(header));
        out.push('\n');
        out.push_str(&line(
            width.map(|w| "-".repeat(w)).each_ref().map(String::as_str),
        ));
        out.push('\n');
        for row in &cells {
            out.push_str(&line(row.each_ref().map(String::as_str)));
            out.push('\n');
        }
        for n in &self.notes {
            out.push_str("note: ");
            out.push_str(n);
            out.push('\n');
        }
        out
    }
}

pub fn ms(d: std::time::Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

pub fn secs(d: std::time::Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
