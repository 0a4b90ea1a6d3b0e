//! Uploaded materials: what a file really is (from its bytes, never its name), a safe display
//! name, and the size and type rules. Pure functions; total on any input (they never panic).

use crate::ErrorCode;

/// The file types accepted for materials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Pdf,
    Jpeg,
    Png,
    /// 版式文档 OFD (GB/T 33190): a ZIP container with `OFD.xml` at its root.
    Ofd,
}

impl FileKind {
    pub const ALL: [FileKind; 4] = [FileKind::Pdf, FileKind::Jpeg, FileKind::Png, FileKind::Ofd];

    /// Whether a browser shows this kind by itself (staff preview): the image kinds. PDF and
    /// OFD need a viewer a sandboxed page does not get, so they are downloaded.
    pub fn shows_inline(self) -> bool {
        matches!(self, FileKind::Jpeg | FileKind::Png)
    }

    pub fn key(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Jpeg => "jpeg",
            FileKind::Png => "png",
            FileKind::Ofd => "ofd",
        }
    }
    pub fn from_key(k: &str) -> Option<Self> {
        FileKind::ALL.into_iter().find(|f| f.key() == k)
    }
    /// The media type sent when the file is downloaded.
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Ofd => "application/ofd",
        }
    }
    /// Accepted file name extensions (lower case); the first is the one added when missing.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileKind::Pdf => &["pdf"],
            FileKind::Jpeg => &["jpg", "jpeg"],
            FileKind::Png => &["png"],
            FileKind::Ofd => &["ofd"],
        }
    }
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const ZIP_LOCAL: &[u8] = b"PK\x03\x04";
const EOCD_SIG: u32 = 0x0605_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_LEN: usize = 22;
/// Most central-directory entries looked at (an OFD has a few dozen).
const MAX_ZIP_ENTRIES: usize = 10_000;

/// What the bytes are, by their content alone; `None` for anything else (an executable renamed
/// to `.pdf` included).
pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
    if bytes.starts_with(b"%PDF-") {
        Some(FileKind::Pdf)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileKind::Jpeg)
    } else if bytes.starts_with(PNG_MAGIC) {
        Some(FileKind::Png)
    } else if bytes.starts_with(ZIP_LOCAL) && zip_has_root_entry(bytes, "OFD.xml") {
        Some(FileKind::Ofd)
    } else {
        None
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(usize::from(u16::from_le_bytes([s[0], s[1]])))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Whether a ZIP archive's central directory lists an entry named exactly `name` (at the root).
/// Reads only the end record and the central directory; anything malformed is `false`.
fn zip_has_root_entry(b: &[u8], name: &str) -> bool {
    let size = u64::try_from(b.len()).unwrap_or(u64::MAX);
    zip_has_root_entry_in(size, &mut |at, len| slice_at(b, at, len), name)
}

fn slice_at(b: &[u8], at: u64, len: usize) -> Option<Vec<u8>> {
    let at = usize::try_from(at).ok()?;
    b.get(at..at.checked_add(len)?).map(<[u8]>::to_vec)
}

/// [`zip_has_root_entry`] for content of `size` bytes read through `read_at(offset, len)` (a
/// file on disk): only the last 64 KiB and the central directory are read.
fn zip_has_root_entry_in(size: u64, read_at: &mut ReadAt<'_>, name: &str) -> bool {
    // The end-of-central-directory record is the last 22 bytes plus a comment of ≤ 65535.
    let Ok(size) = usize::try_from(size) else {
        return false;
    };
    let Some(last) = size.checked_sub(EOCD_LEN) else {
        return false;
    };
    let first = last.saturating_sub(usize::from(u16::MAX));
    let Some(tail) = read_at(first as u64, size - first) else {
        return false;
    };
    let Some(e) = (0..=last - first)
        .rev()
        .find(|&i| u32_at(&tail, i) == Some(EOCD_SIG))
    else {
        return false;
    };
    let eocd = first + e;
    let (Some(count), Some(cd_size), Some(cd_offset)) = (
        u16_at(&tail, e + 10),
        u32_at(&tail, e + 12),
        u32_at(&tail, e + 16),
    ) else {
        return false;
    };
    let (Ok(cd_size), Ok(cd_offset)) = (usize::try_from(cd_size), usize::try_from(cd_offset))
    else {
        return false;
    };
    if cd_offset.checked_add(cd_size).is_none_or(|end| end > eocd) {
        return false;
    }
    let Some(cd) = read_at(cd_offset as u64, cd_size) else {
        return false;
    };
    let mut at = 0usize;
    for _ in 0..count.min(MAX_ZIP_ENTRIES) {
        if u32_at(&cd, at) != Some(CENTRAL_SIG) {
            return false;
        }
        let (Some(name_len), Some(extra_len), Some(comment_len)) = (
            u16_at(&cd, at + 28),
            u16_at(&cd, at + 30),
            u16_at(&cd, at + 32),
        ) else {
            return false;
        };
        let name_start = at + 46;
        let Some(entry) = cd.get(name_start..name_start + name_len) else {
            return false;
        };
        if entry == name.as_bytes() {
            return true;
        }
        at = name_start + name_len + extra_len + comment_len;
        if at > cd.len() {
            return false;
        }
    }
    false
}

/// Reads `len` bytes at `offset` of content not in memory; `None` when it cannot.
pub type ReadAt<'a> = dyn FnMut(u64, usize) -> Option<Vec<u8>> + 'a;

/// Bytes of the start of a file [`sniff_stored`] needs.
pub const SNIFF_HEAD_BYTES: usize = 16;

/// [`sniff`] for content of `size` bytes that is not in memory (a received file spooled to
/// disk): `head` is its first [`SNIFF_HEAD_BYTES`] bytes (all of it when shorter), `read_at`
/// reads more where the type needs it (an OFD's ZIP directory at the end).
pub fn sniff_stored(head: &[u8], size: u64, read_at: &mut ReadAt<'_>) -> Option<FileKind> {
    if head.starts_with(b"%PDF-") {
        Some(FileKind::Pdf)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileKind::Jpeg)
    } else if head.starts_with(PNG_MAGIC) {
        Some(FileKind::Png)
    } else if head.starts_with(ZIP_LOCAL) && zip_has_root_entry_in(size, read_at, "OFD.xml") {
        Some(FileKind::Ofd)
    } else {
        None
    }
}

/// [`check_file`] for content not in memory (see [`sniff_stored`]).
pub fn check_stored(
    head: &[u8],
    size: u64,
    read_at: &mut ReadAt<'_>,
    declared_name: &str,
    policy: &UploadPolicy,
) -> Result<CheckedFile, ErrorCode> {
    policy.check_size(size)?;
    let kind = sniff_stored(head, size, read_at).ok_or(ErrorCode::UnsupportedFileType)?;
    policy.check_kind(kind)?;
    Ok(CheckedFile {
        kind,
        filename: display_name(declared_name, kind),
        size,
    })
}

/// Longest kept file name, in characters (extension included).
pub const MAX_FILENAME_CHARS: usize = 100;

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*' | '/' | '\\')
        // Bidirectional overrides and isolates make "exe.pdf" look like "fdp.exe".
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
        // Zero-width characters and the byte-order mark.
        || matches!(c, '\u{200B}'..='\u{200D}' | '\u{FEFF}')
}

/// A file name safe to store and show: the last path component only, no control or
/// path-special characters, no `..`, no leading or trailing dots or spaces, at most
/// [`MAX_FILENAME_CHARS`] characters (the extension is kept when shortening); Chinese and other
/// letters stay. Never empty (`file`). The result is only ever shown and sent back as a
/// download name, never used as a path.
pub fn sanitize_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut out = String::with_capacity(last.len());
    for c in last.chars() {
        if unsafe_char(c) {
            continue;
        }
        // Collapse runs of dots (no "..") and of white space.
        if (c == '.' && out.ends_with('.')) || (c.is_whitespace() && out.ends_with(' ')) {
            continue;
        }
        out.push(if c.is_whitespace() { ' ' } else { c });
    }
    let trimmed = out.trim_matches(|c: char| c == '.' || c == ' ');
    let name = shorten(trimmed, MAX_FILENAME_CHARS);
    if name.is_empty() {
        "file".to_string()
    } else {
        name
    }
}

/// `stem.ext` cut to `max` characters, keeping a short extension.
fn shorten(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.chars().count() <= 10 => {
            let keep = max.saturating_sub(ext.chars().count() + 1);
            let stem: String = stem.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end_matches(['.', ' ']))
        }
        _ => {
            let cut: String = name.chars().take(max).collect();
            cut.trim_end_matches(['.', ' ']).to_string()
        }
    }
}

/// The sanitised name with an extension that tells the truth about `kind`: a missing or wrong
/// extension is replaced (`scan.jpeg` holding a PNG becomes `scan.png`).
pub fn display_name(name: &str, kind: FileKind) -> String {
    let clean = sanitize_filename(name);
    let stem = match clean.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => {
            if kind.extensions().contains(&ext.to_lowercase().as_str()) {
                return clean;
            }
            stem.to_string()
        }
        _ => clean,
    };
    let ext = kind.extensions().first().copied().unwrap_or("bin");
    let stem = shorten(&stem, MAX_FILENAME_CHARS.saturating_sub(ext.len() + 1));
    format!("{stem}.{ext}")
}

/// What a material slot accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPolicy {
    pub max_bytes: u64,
    pub allowed: Vec<FileKind>,
}

/// Default largest material file: 20 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 20 * 1024 * 1024;

impl Default for UploadPolicy {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            allowed: FileKind::ALL.to_vec(),
        }
    }
}

impl UploadPolicy {
    /// `FileTooLarge` past the limit, `EmptyFile` for nothing.
    pub fn check_size(&self, size: u64) -> Result<(), ErrorCode> {
        if size == 0 {
            Err(ErrorCode::EmptyFile)
        } else if size > self.max_bytes {
            Err(ErrorCode::FileTooLarge)
        } else {
            Ok(())
        }
    }
    /// `UnsupportedFileType` for a type this slot does not accept.
    pub fn check_kind(&self, kind: FileKind) -> Result<(), ErrorCode> {
        if self.allowed.contains(&kind) {
            Ok(())
        } else {
            Err(ErrorCode::UnsupportedFileType)
        }
    }
}

/// A file that passed every check: its real type and a safe name that matches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedFile {
    pub kind: FileKind,
    pub filename: String,
    pub size: u64,
}

/// Checks a whole uploaded file: not empty, within the size limit, a recognised type by its
/// content that the policy allows. The declared name only becomes the display name.
pub fn check_file(
    bytes: &[u8],
    declared_name: &str,
    policy: &UploadPolicy,
) -> Result<CheckedFile, ErrorCode> {
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    policy.check_size(size)?;
    let kind = sniff(bytes).ok_or(ErrorCode::UnsupportedFileType)?;
    policy.check_kind(kind)?;
    Ok(CheckedFile {
        kind,
        filename: display_name(declared_name, kind),
        size,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use proptest::prelude::*;

    /// A stored (uncompressed) ZIP with the given entry names, built by hand.
    pub(crate) fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for name in names {
            let offset = out.len() as u32;
            let data = b"<ofd/>";
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&[0, 0, 0, 0]); // crc (not checked)
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&[0, 0, 0, 0]);
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    #[test]
    fn sniffs_the_four_kinds_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(FileKind::Pdf));
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some(FileKind::Jpeg)
        );
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(FileKind::Png));
        assert_eq!(
            sniff(&zip_with(&["Doc_0/Document.xml", "OFD.xml"])),
            Some(FileKind::Ofd)
        );
    }

    #[test]
    fn rejects_executables_archives_and_lookalikes() {
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0"), None);
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01"), None);
        // A plain ZIP (or a .docx) is not an OFD; nor is OFD.xml inside a folder.
        assert_eq!(sniff(&zip_with(&["word/document.xml"])), None);
        assert_eq!(sniff(&zip_with(&["Doc_0/OFD.xml"])), None);
        assert_eq!(sniff(b" %PDF-1.7"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"PK\x03\x04"), None);
        let renamed = check_file(b"MZ\x90\0\x03", "通知书.pdf", &UploadPolicy::default());
        assert_eq!(renamed, Err(ErrorCode::UnsupportedFileType));
    }

    #[test]
    fn sniffing_stored_content_agrees_with_sniffing_bytes() {
        let ofd = zip_with(&["Doc_0/Document.xml", "OFD.xml"]);
        let cases: Vec<Vec<u8>> = vec![
            ofd.clone(),
            zip_with(&["word/document.xml"]),
            b"%PDF-1.7 x".to_vec(),
            b"MZ\x90\0".to_vec(),
            Vec::new(),
        ];
        for bytes in cases {
            let head = &bytes[..bytes.len().min(SNIFF_HEAD_BYTES)];
            let mut reads = 0;
            let got = sniff_stored(head, bytes.len() as u64, &mut |at, len| {
                reads += 1;
                slice_at(&bytes, at, len)
            });
            assert_eq!(got, sniff(&bytes));
            assert!(reads <= 2, "only the tail and the directory are read");
        }
        for cut in 0..ofd.len() {
            let part = &ofd[..cut];
            let head = &part[..part.len().min(SNIFF_HEAD_BYTES)];
            assert_eq!(
                sniff_stored(head, cut as u64, &mut |at, len| slice_at(part, at, len)),
                sniff(part)
            );
        }
    }

    #[test]
    fn truncated_or_lying_zip_records_are_not_ofd() {
        let good = zip_with(&["OFD.xml"]);
        for cut in 0..good.len() {
            let _ = sniff(&good[..cut]);
        }
        let mut lying = good.clone();
        let n = lying.len();
        // Central directory offset pointing past the end.
        lying[n - 6..n - 2].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(sniff(&lying), None);
    }

    #[test]
    fn sanitises_names() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("..\\..\\windows\\win.ini"), "win.ini");
        assert_eq!(
            sanitize_filename("C:\\Users\\张三\\身份证.pdf"),
            "身份证.pdf"
        );
        assert_eq!(sanitize_filename(".."), "file");
        assert_eq!(sanitize_filename(""), "file");
        assert_eq!(sanitize_filename("a..b...pdf"), "a.b.pdf");
        assert_eq!(sanitize_filename(".hidden"), "hidden");
        assert_eq!(sanitize_filename("a\u{0}b\r\nc.pdf"), "abc.pdf");
        assert_eq!(sanitize_filename("x\u{202E}fdp.exe"), "xfdp.exe");
        assert_eq!(
            sanitize_filename("营业 执照  副本.pdf"),
            "营业 执照 副本.pdf"
        );
        let long = format!("{}.pdf", "长".repeat(300));
        let s = sanitize_filename(&long);
        assert_eq!(s.chars().count(), MAX_FILENAME_CHARS);
        assert!(s.ends_with(".pdf"));
    }

    #[test]
    fn display_names_tell_the_real_type() {
        assert_eq!(display_name("scan.jpeg", FileKind::Png), "scan.png");
        assert_eq!(display_name("scan.JPG", FileKind::Jpeg), "scan.JPG");
        assert_eq!(display_name("营业执照", FileKind::Pdf), "营业执照.pdf");
        assert_eq!(display_name("setup.exe", FileKind::Pdf), "setup.pdf");
        assert_eq!(display_name("", FileKind::Ofd), "file.ofd");
    }

    #[test]
    fn size_and_type_rules() {
        let p = UploadPolicy {
            max_bytes: 10,
            allowed: vec![FileKind::Pdf],
        };
        assert_eq!(check_file(b"", "a.pdf", &p), Err(ErrorCode::EmptyFile));
        assert_eq!(
            check_file(b"%PDF-1.4 too long", "a.pdf", &p),
            Err(ErrorCode::FileTooLarge)
        );
        assert_eq!(
            check_file(b"\x89PNG\r\n\x1a\n", "a.png", &p),
            Err(ErrorCode::UnsupportedFileType)
        );
        let ok = check_file(b"%PDF-1.4", "../a.pdf", &p).unwrap();
        assert_eq!(
            (ok.kind, ok.filename.as_str(), ok.size),
            (FileKind::Pdf, "a.pdf", 8)
        );
    }

    proptest! {
        #[test]
        fn sniffing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = sniff(&bytes);
            let mut zipish = b"PK\x03\x04".to_vec();
            zipish.extend_from_slice(&bytes);
            let _ = sniff(&zipish);
            let mut eocd = zipish.clone();
            eocd.extend_from_slice(b"PK\x05\x06");
            eocd.extend_from_slice(&bytes[..bytes.len().min(18)]);
            let _ = sniff(&eocd);
        }

        #[test]
        fn sanitised_names_are_safe(name in "\\PC{0,300}", raw in proptest::collection::vec(any::<char>(), 0..200)) {
            let raw: String = raw.into_iter().collect();
            for n in [name.as_str(), raw.as_str()] {
                let s = sanitize_filename(n);
                prop_assert!(!s.is_empty());
                prop_assert!(s.chars().count() <= MAX_FILENAME_CHARS);
                prop_assert!(!s.contains('/') && !s.contains('\\') && !s.contains(".."));
                prop_assert!(!s.chars().any(char::is_control));
                prop_assert!(!s.starts_with('.'));
                let d = display_name(n, FileKind::Pdf);
                prop_assert!(d.ends_with(".pdf") && d.chars().count() <= MAX_FILENAME_CHARS);
                prop_assert!(!d.contains(".."));
            }
        }
    }
}
