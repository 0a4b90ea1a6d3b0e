//! Region files in the shape of the national dataset: provinces, cities, areas, streets and
//! villages, each `<name>.csv` or `<name>.csv.gz`, first two columns `code,name`.

use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};
use yiwang_domain::{RegionCode, RegionLevel};
use yiwang_store::RegionRow;

pub const LEVEL_FILES: [(&str, RegionLevel); 5] = [
    ("provinces", RegionLevel::Province),
    ("cities", RegionLevel::City),
    ("areas", RegionLevel::County),
    ("streets", RegionLevel::Township),
    ("villages", RegionLevel::Village),
];

#[derive(Debug, thiserror::Error)]
pub enum RegionFileError {
    #[error("{0}: neither {0}.csv nor {0}.csv.gz found in the directory")]
    Missing(String),
    #[error("{file}: {message}")]
    Io { file: String, message: String },
    #[error("{file} line {line}: {message}")]
    Bad {
        file: String,
        line: u64,
        message: String,
    },
}

fn find(dir: &Path, stem: &str) -> Option<PathBuf> {
    [format!("{stem}.csv.gz"), format!("{stem}.csv")]
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// Parses one level's CSV text. The parent is the code's own ancestor one level up.
pub fn parse_level(
    file: &str,
    text: &[u8],
    level: RegionLevel,
) -> Result<Vec<RegionRow>, RegionFileError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text);
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i as u64 + 2;
        let bad = |message: String| RegionFileError::Bad {
            file: file.to_string(),
            line,
            message,
        };
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let code = rec.get(0).unwrap_or("").trim();
        let name = rec.get(1).unwrap_or("").trim();
        let code = RegionCode::parse(code).map_err(|_| bad(format!("invalid code {code:?}")))?;
        match code.level().cmp(&level) {
            std::cmp::Ordering::Equal => {}
            // Where a level is missing (东莞 has no counties, 金门 no townships) the dataset
            // repeats the parent's code as a placeholder; the parent row already exists.
            std::cmp::Ordering::Less => continue,
            std::cmp::Ordering::Greater => {
                return Err(bad(format!("code {code} is not a {} code", level.key())));
            }
        }
        if name.is_empty() {
            return Err(bad("empty name".into()));
        }
        let parent = code.parent();
        out.push(RegionRow {
            code,
            name: name.to_string(),
            level,
            parent,
        });
    }
    Ok(out)
}

/// Reads all five levels from a directory, gzipped or plain.
/// Placeholder rows that repeat a parent's code at a lower level are skipped.
pub fn read_region_dir(dir: &Path) -> Result<Vec<RegionRow>, RegionFileError> {
    let mut all = Vec::new();
    for (stem, level) in LEVEL_FILES {
        let path = find(dir, stem).ok_or_else(|| RegionFileError::Missing(stem.to_string()))?;
        let io = |e: std::io::Error| RegionFileError::Io {
            file: path.display().to_string(),
            message: e.to_string(),
        };
        let raw = std::fs::read(&path).map_err(io)?;
        let text = if path.extension().is_some_and(|e| e == "gz") {
            let mut s = Vec::with_capacity(raw.len() * 4);
            GzDecoder::new(raw.as_slice())
                .read_to_end(&mut s)
                .map_err(io)?;
            s
        } else {
            raw
        };
        all.extend(parse_level(&path.display().to_string(), &text, level)?);
    }
    Ok(all)
}

/// The Tianjin subset shipped with the binary (for the demo and tests).
pub fn tianjin() -> Result<Vec<RegionRow>, RegionFileError> {
    const FILES: [&[u8]; 5] = [
        include_bytes!("../data/regions/provinces.csv"),
        include_bytes!("../data/regions/cities.csv"),
        include_bytes!("../data/regions/areas.csv"),
        include_bytes!("../data/regions/streets.csv"),
        include_bytes!("../data/regions/villages.csv"),
    ];
    let mut all = Vec::new();
    for ((stem, level), text) in LEVEL_FILES.into_iter().zip(FILES) {
        all.extend(parse_level(stem, text, level)?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_for_missing_levels_are_skipped() {
        // 东莞 (4419) has no counties: the areas file repeats the city's code.
        let areas = "code,name\n441900,\"东莞市\"\n350527,\"金门县\"\n".as_bytes();
        let rows = parse_level("areas", areas, RegionLevel::County).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].code.as_str(), "350527000000");
        // 金门 has no townships: the villages file repeats the county code; it must not
        // overwrite the county with level 5.
        let villages = "code,name\n350527000000,\"金门县\"\n120112100201,\"某村\"\n".as_bytes();
        let rows = parse_level("villages", villages, RegionLevel::Village).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].parent.as_ref().map(|p| p.as_str()),
            Some("120112100000")
        );
        // A code deeper than its file is an error that names the line.
        let bad = "code,name\n120112100\n".as_bytes();
        let err = parse_level("areas", bad, RegionLevel::County).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn tianjin_subset_is_complete() {
        let rows = tianjin().unwrap();
        assert_eq!(rows.len(), 5934);
        assert!(
            rows.iter()
                .any(|r| r.code.as_str() == "120112000000" && r.name == "津南区")
        );
    }
}
