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
        if code.level() != level && level != RegionLevel::Village {
            return Err(bad(format!("code {code} is not a {} code", level.key())));
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
