//! Where uploaded files live. The key of a stored file is derived from its content
//! (`sha256-<hex>`), never from the name the user gave, so a name cannot reach the file system
//! and the same file uploaded twice is stored once. [`LocalDirStore`] keeps files in a
//! directory (the default); other stores (object storage) implement [`FileStore`].
//!
//! Materials are personal data (ID card scans): with a key ring, [`LocalDirStore`] stores them
//! encrypted with the ring's current data key (SM4-GCM by default), in segments of
//! [`SEGMENT_BYTES`] so that neither writing nor re-encrypting holds a whole file in memory.
//! The file starts with a header naming the algorithm and the key id; each segment is sealed
//! with associated data naming the file, the segment's place and whether it is the last, so
//! segments cannot be reordered, moved to another file or cut off. A file is read with
//! whichever key of the ring its header names; [`LocalDirStore::rotate`] (run by
//! `yiwang keys rotate`) re-encrypts files under the current key. Files stored before
//! encryption (no header) are still read, and rotation encrypts them.
//!
//! Uploads arrive through a [`Spool`]: a temporary file written while the request streams in,
//! hashed and size-checked as it goes, so a large upload never sits in memory.

use crate::jobs::BoxFuture;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use yiwang_crypto::{Alg, KeyRing};

/// Plaintext bytes per encrypted segment of a stored file.
pub const SEGMENT_BYTES: usize = 64 * 1024;
/// The first bytes of an encrypted stored file (then the algorithm and key id).
const MAGIC: &[u8] = b"YWENC1";

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The storage key for content with this SHA-256.
pub fn key_for(sha256_hex: &str) -> String {
    format!("sha256-{sha256_hex}")
}

/// `Some(hex)` for a well-formed key; anything else is refused before it nears a path.
fn parse_key(key: &str) -> Option<&str> {
    let hex = key.strip_prefix("sha256-")?;
    (hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(hex)
}

#[derive(Debug, thiserror::Error)]
pub enum FileStoreError {
    #[error("malformed storage key")]
    BadKey,
    #[error("no such file")]
    NotFound,
    #[error("stored file does not match its key")]
    Corrupt,
    #[error("stored file cannot be decrypted: {0}")]
    Crypto(#[from] yiwang_crypto::CryptoError),
    #[error("stored file is encrypted but no data keys are configured")]
    NoKeys,
    #[error("file store: {0}")]
    Io(#[from] std::io::Error),
}

/// Content-addressed file storage.
pub trait FileStore: Send + Sync {
    /// Stores `bytes`; returns the key (the same key for the same content).
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BoxFuture<'a, Result<String, FileStoreError>>;
    /// The content stored under `key`, checked against it.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Vec<u8>, FileStoreError>>;
    /// Removes the file (no error if it is already gone). Callers check first that no record
    /// refers to it (`Store::storage_key_in_use`).
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), FileStoreError>>;
    /// Stores the content of the file at `path` (a [`Spool`]ed upload), whose SHA-256 is
    /// `sha256` (checked again while it is read); returns the key. The default reads the file
    /// into memory and calls [`FileStore::put`]; stores that can stream override it.
    fn put_file<'a>(
        &'a self,
        path: &'a Path,
        sha256: &'a str,
    ) -> BoxFuture<'a, Result<String, FileStoreError>> {
        Box::pin(async move {
            let bytes = tokio::fs::read(path).await?;
            if sha256_hex(&bytes) != sha256 {
                return Err(FileStoreError::Corrupt);
            }
            self.put(&bytes).await
        })
    }
    /// Where uploads are spooled while they arrive (on disk, beside the files when possible).
    fn spool_dir(&self) -> PathBuf {
        std::env::temp_dir()
    }
}

/// The associated data of one segment of the file with content hash `hex`.
fn segment_aad(hex: &str, index: u64, last: bool) -> Vec<u8> {
    format!("yiwang-file:sha256-{hex}#{index}:{}", u8::from(last)).into_bytes()
}

/// Reads up to `SEGMENT_BYTES` (fewer only at the end of `r`).
fn read_segment(r: &mut dyn Read) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; SEGMENT_BYTES];
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// Writes the content read from `plain` to `out` encrypted under the ring's current key, for
/// the file whose SHA-256 is `hex`; `Corrupt` when the content does not hash to `hex`.
fn seal_to(
    ring: &KeyRing,
    hex: &str,
    plain: &mut dyn Read,
    out: &mut dyn Write,
) -> Result<(), FileStoreError> {
    let key_id = ring.current_key_id();
    let alg = ring.current_alg().id();
    let (Ok(alg_len), Ok(key_len)) = (u8::try_from(alg.len()), u8::try_from(key_id.len())) else {
        return Err(FileStoreError::Corrupt);
    };
    out.write_all(MAGIC)?;
    out.write_all(&[alg_len])?;
    out.write_all(alg.as_bytes())?;
    out.write_all(&[key_len])?;
    out.write_all(key_id.as_bytes())?;
    let mut hasher = Sha256::new();
    let mut current = read_segment(plain)?;
    let mut index = 0u64;
    loop {
        let next = read_segment(plain)?;
        let last = next.is_empty();
        hasher.update(&current);
        let sealed = ring.seal_bytes(key_id, &segment_aad(hex, index, last), &current)?;
        let len = u32::try_from(sealed.len()).map_err(|_| FileStoreError::Corrupt)?;
        out.write_all(&len.to_le_bytes())?;
        out.write_all(&sealed)?;
        if last {
            break;
        }
        current = next;
        index += 1;
    }
    if hex::encode(hasher.finalize()) != hex {
        return Err(FileStoreError::Corrupt);
    }
    Ok(())
}

/// The algorithm and key id in the header of a stored file; `None` for a file stored before
/// encryption (plaintext).
pub fn sealed_with(stored: &[u8]) -> Option<(String, String)> {
    header(stored).map(|(alg, key, _)| (alg.to_string(), key.to_string()))
}

/// Algorithm id, key id and the offset of the first segment.
fn header(stored: &[u8]) -> Option<(&str, &str, usize)> {
    let rest = stored.strip_prefix(MAGIC)?;
    let alg_len = usize::from(*rest.first()?);
    let alg = std::str::from_utf8(rest.get(1..1 + alg_len)?).ok()?;
    let key_len = usize::from(*rest.get(1 + alg_len)?);
    let key = std::str::from_utf8(rest.get(2 + alg_len..2 + alg_len + key_len)?).ok()?;
    Some((alg, key, MAGIC.len() + 2 + alg_len + key_len))
}

/// The content of a stored file with hash `hex`: decrypted with the ring's key its header names
/// (any key of the ring), or as it is for a file stored before encryption; checked against
/// `hex` either way.
fn open_stored(
    ring: Option<&KeyRing>,
    hex: &str,
    stored: Vec<u8>,
) -> Result<Vec<u8>, FileStoreError> {
    if !stored.starts_with(MAGIC) {
        if sha256_hex(&stored) != hex {
            return Err(FileStoreError::Corrupt);
        }
        return Ok(stored);
    }
    let (alg, key_id, mut at) = header(&stored).ok_or(FileStoreError::Corrupt)?;
    let ring = ring.ok_or(FileStoreError::NoKeys)?;
    let alg = Alg::from_id(alg).ok_or(FileStoreError::Corrupt)?;
    let mut plain = Vec::with_capacity(stored.len());
    let mut index = 0u64;
    loop {
        let len_bytes = stored.get(at..at + 4).ok_or(FileStoreError::Corrupt)?;
        let len = u32::from_le_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        let len = usize::try_from(len).map_err(|_| FileStoreError::Corrupt)?;
        let start = at + 4;
        let sealed = stored
            .get(start..start.checked_add(len).ok_or(FileStoreError::Corrupt)?)
            .ok_or(FileStoreError::Corrupt)?;
        at = start + len;
        let last = at == stored.len();
        let seg = ring.open_bytes(key_id, alg, &segment_aad(hex, index, last), sealed)?;
        plain.extend_from_slice(&seg);
        if last {
            break;
        }
        index += 1;
    }
    if sha256_hex(&plain) != hex {
        return Err(FileStoreError::Corrupt);
    }
    Ok(plain)
}

/// What [`LocalDirStore::rotate`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FileRotation {
    /// Files looked at.
    pub scanned: u64,
    /// Files written again under the current key (stored in clear before included).
    pub reencrypted: u64,
    /// Files that could not be read with the ring (unknown key, altered): left as they are.
    pub failed: u64,
}

/// Files in a directory: `<root>/<hex[0..2]>/<hex[2..4]>/<hex>`. A write goes to a temporary
/// file in `<root>/tmp`, is flushed to disk, then renamed into place, so a reader never sees
/// half a file and a crash leaves at most a stray temporary file.
#[derive(Debug, Clone)]
pub struct LocalDirStore {
    root: PathBuf,
    /// Encrypts new files (current key) and reads encrypted ones (any key); `None`: files are
    /// written in clear (a server without configured keys).
    keys: Option<Arc<KeyRing>>,
}

impl LocalDirStore {
    /// Uses (and creates) `root`, e.g. `<data_dir>/files`.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, FileStoreError> {
        let root = root.into();
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(Self { root, keys: None })
    }

    /// Encrypts the files it writes with `keys` (see the module documentation).
    pub fn with_keys(mut self, keys: Option<Arc<KeyRing>>) -> Self {
        self.keys = keys;
        self
    }

    /// Whether new files are written encrypted.
    pub fn encrypts(&self) -> bool {
        self.keys.is_some()
    }

    /// Writes the content read from `plain` (hash `hex`) to `dest` through a temporary file,
    /// encrypted when there are keys, flushed to disk before the rename.
    fn write_file(
        &self,
        hex: &str,
        plain: &mut dyn Read,
        dest: &Path,
    ) -> Result<(), FileStoreError> {
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.root.join("tmp").join(temp_name());
        let written = (|| -> Result<(), FileStoreError> {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            match &self.keys {
                Some(ring) => seal_to(ring, hex, plain, &mut f)?,
                None => {
                    let mut hashing = HashingReader::new(plain);
                    std::io::copy(&mut hashing, &mut f)?;
                    if hashing.hex() != hex {
                        return Err(FileStoreError::Corrupt);
                    }
                }
            }
            let f = f
                .into_inner()
                .map_err(std::io::IntoInnerError::into_error)?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, dest)?;
            Ok(())
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }

    /// Re-encrypts every stored file that is not under the ring's current key (files stored in
    /// clear included), one at a time through a temporary file and a rename, so readers never
    /// see half a file. Safe to repeat and to run while serving. Without keys: nothing to do.
    pub fn rotate(&self) -> Result<FileRotation, FileStoreError> {
        let mut done = FileRotation::default();
        let Some(ring) = self.keys.clone() else {
            return Ok(done);
        };
        for path in self.stored_files()? {
            let Some(hex) = path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            if parse_key(&key_for(&hex)).is_none() {
                continue;
            }
            done.scanned += 1;
            let stored = std::fs::read(&path)?;
            let current = header(&stored).is_some_and(|(alg, key, _)| {
                key == ring.current_key_id() && alg == ring.current_alg().id()
            });
            if current {
                continue;
            }
            match open_stored(Some(&ring), &hex, stored) {
                Ok(plain) => {
                    self.write_file(&hex, &mut plain.as_slice(), &path)?;
                    done.reencrypted += 1;
                }
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "stored file not re-encrypted");
                    done.failed += 1;
                }
            }
        }
        Ok(done)
    }

    /// How many stored files each data key protects (`plaintext` for files stored in clear).
    pub fn key_usage(&self) -> Result<std::collections::BTreeMap<String, u64>, FileStoreError> {
        let mut usage = std::collections::BTreeMap::new();
        for path in self.stored_files()? {
            let mut head = vec![0u8; 80];
            let n = std::fs::File::open(&path)?.read(&mut head)?;
            head.truncate(n);
            let key = sealed_with(&head).map_or_else(|| "plaintext".to_string(), |(_, k)| k);
            *usage.entry(key).or_insert(0) += 1;
        }
        Ok(usage)
    }

    /// The paths of all stored files (`<root>/xx/yy/<hex>`).
    fn stored_files(&self) -> Result<Vec<PathBuf>, FileStoreError> {
        let mut out = Vec::new();
        let two_hex = |p: &Path| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        for a in std::fs::read_dir(&self.root)? {
            let a = a?.path();
            if !a.is_dir() || !two_hex(&a) {
                continue;
            }
            for b in std::fs::read_dir(&a)? {
                let b = b?.path();
                if !b.is_dir() || !two_hex(&b) {
                    continue;
                }
                for f in std::fs::read_dir(&b)? {
                    let f = f?.path();
                    if f.is_file() {
                        out.push(f);
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, hex: &str) -> PathBuf {
        let (a, b) = (hex.get(0..2).unwrap_or("00"), hex.get(2..4).unwrap_or("00"));
        self.root.join(a).join(b).join(hex)
    }
}

fn temp_name() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}.part",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl FileStore for LocalDirStore {
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BoxFuture<'a, Result<String, FileStoreError>> {
        Box::pin(async move {
            let hex = sha256_hex(bytes);
            let dest = self.path_of(&hex);
            if tokio::fs::try_exists(&dest).await? {
                return Ok(key_for(&hex));
            }
            let this = self.clone();
            let bytes = bytes.to_vec();
            let h = hex.clone();
            tokio::task::spawn_blocking(move || this.write_file(&h, &mut bytes.as_slice(), &dest))
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))??;
            Ok(key_for(&hex))
        })
    }

    fn put_file<'a>(
        &'a self,
        path: &'a Path,
        sha256: &'a str,
    ) -> BoxFuture<'a, Result<String, FileStoreError>> {
        Box::pin(async move {
            let key = key_for(sha256);
            let hex = parse_key(&key).ok_or(FileStoreError::BadKey)?.to_string();
            let dest = self.path_of(&hex);
            if tokio::fs::try_exists(&dest).await? {
                return Ok(key);
            }
            let this = self.clone();
            let src = path.to_path_buf();
            tokio::task::spawn_blocking(move || -> Result<(), FileStoreError> {
                let mut f = std::io::BufReader::new(std::fs::File::open(&src)?);
                this.write_file(&hex, &mut f, &dest)
            })
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
            Ok(key)
        })
    }

    fn spool_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Vec<u8>, FileStoreError>> {
        Box::pin(async move {
            let hex = parse_key(key).ok_or(FileStoreError::BadKey)?.to_string();
            let stored = match tokio::fs::read(self.path_of(&hex)).await {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(FileStoreError::NotFound);
                }
                Err(e) => return Err(e.into()),
            };
            let keys = self.keys.clone();
            tokio::task::spawn_blocking(move || open_stored(keys.as_deref(), &hex, stored))
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), FileStoreError>> {
        Box::pin(async move {
            let hex = parse_key(key).ok_or(FileStoreError::BadKey)?;
            match tokio::fs::remove_file(self.path_of(hex)).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e.into()),
            }
        })
    }
}

/// A reader that hashes what passes through it.
struct HashingReader<'r> {
    inner: &'r mut dyn Read,
    hasher: Sha256,
}

impl<'r> HashingReader<'r> {
    fn new(inner: &'r mut dyn Read) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
        }
    }
    fn hex(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

impl Read for HashingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Files in memory: the default of a web state built without a directory (tests, tools).
#[derive(Debug, Default)]
pub struct MemoryFileStore {
    files: std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>,
}

impl MemoryFileStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Vec<u8>>> {
        // A panic while holding the lock cannot leave a half-written entry: keep going.
        self.files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl FileStore for MemoryFileStore {
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BoxFuture<'a, Result<String, FileStoreError>> {
        Box::pin(async move {
            let key = key_for(&sha256_hex(bytes));
            self.lock()
                .entry(key.clone())
                .or_insert_with(|| bytes.to_vec());
            Ok(key)
        })
    }
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Vec<u8>, FileStoreError>> {
        Box::pin(async move {
            parse_key(key).ok_or(FileStoreError::BadKey)?;
            self.lock()
                .get(key)
                .cloned()
                .ok_or(FileStoreError::NotFound)
        })
    }
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), FileStoreError>> {
        Box::pin(async move {
            parse_key(key).ok_or(FileStoreError::BadKey)?;
            self.lock().remove(key);
            Ok(())
        })
    }
}

/// Where the content of a checked upload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadContent {
    /// In memory (small files made by tools and tests).
    Bytes(Vec<u8>),
    /// On disk, received through a [`Spool`].
    Spooled(SpooledFile),
}

/// An uploaded file that passed every check at the edge: its real type (sniffed), a safe
/// display name, its size and SHA-256, and where its content is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedUpload {
    pub kind: yiwang_domain::upload::FileKind,
    pub filename: String,
    pub size: u64,
    pub sha256: String,
    pub content: UploadContent,
}

impl CheckedUpload {
    /// Checks `bytes` against `policy` (see `yiwang_domain::upload::check_file`) and hashes it.
    pub fn check(
        bytes: Vec<u8>,
        declared_name: &str,
        policy: &yiwang_domain::upload::UploadPolicy,
    ) -> Result<Self, yiwang_domain::ErrorCode> {
        let checked = yiwang_domain::upload::check_file(&bytes, declared_name, policy)?;
        Ok(Self {
            kind: checked.kind,
            filename: checked.filename,
            size: checked.size,
            sha256: sha256_hex(&bytes),
            content: UploadContent::Bytes(bytes),
        })
    }

    /// Checks a file received through a [`Spool`] (type from its first bytes and, for an OFD,
    /// its ZIP directory read from disk) without reading it into memory.
    pub fn check_spooled(
        file: SpooledFile,
        declared_name: &str,
        policy: &yiwang_domain::upload::UploadPolicy,
    ) -> Result<Self, yiwang_domain::ErrorCode> {
        let mut disk = std::fs::File::open(file.path()).ok();
        let mut read_at = |at: u64, len: usize| -> Option<Vec<u8>> {
            use std::io::Seek;
            let f = disk.as_mut()?;
            f.seek(std::io::SeekFrom::Start(at)).ok()?;
            let mut buf = vec![0u8; len];
            f.read_exact(&mut buf).ok()?;
            Some(buf)
        };
        let checked = yiwang_domain::upload::check_stored(
            &file.0.head,
            file.0.size,
            &mut read_at,
            declared_name,
            policy,
        )?;
        Ok(Self {
            kind: checked.kind,
            filename: checked.filename,
            size: checked.size,
            sha256: file.0.sha256.clone(),
            content: UploadContent::Spooled(file),
        })
    }
}

/// An upload being received into a temporary file: each chunk is hashed, counted against the
/// limit and written through; only the first bytes (for type sniffing) stay in memory.
#[derive(Debug)]
pub struct Spool {
    file: tokio::fs::File,
    path: Option<TempPath>,
    hasher: Sha256,
    size: u64,
    max: u64,
    head: Vec<u8>,
}

/// Why a chunk could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("the file is larger than allowed")]
    TooLarge,
    #[error("spool: {0}")]
    Io(#[from] std::io::Error),
}

impl Spool {
    /// A new temporary file in `dir` (see [`FileStore::spool_dir`]) for at most `max` bytes.
    pub async fn create(dir: &Path, max: u64) -> std::io::Result<Spool> {
        tokio::fs::create_dir_all(dir).await?;
        let path = dir.join(format!("spool-{}", temp_name()));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok(Spool {
            file,
            path: Some(TempPath(path)),
            hasher: Sha256::new(),
            size: 0,
            max,
            head: Vec::new(),
        })
    }

    /// Removes spool files in `dir` last written more than `older_than` ago: the leftovers of a
    /// process that stopped mid-upload (no request lives that long; several processes may
    /// share the directory, so young files are left alone). Returns how many were removed.
    pub fn sweep(
        dir: &Path,
        older_than: std::time::Duration,
        now: std::time::SystemTime,
    ) -> std::io::Result<usize> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry?;
            if !entry.file_name().to_string_lossy().starts_with("spool-") {
                continue;
            }
            let modified = entry.metadata()?.modified()?;
            let age = now.duration_since(modified).unwrap_or_default();
            if age > older_than && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Takes the next chunk; `TooLarge` as soon as the limit is passed (the file is removed
    /// when the spool is dropped).
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), SpoolError> {
        use tokio::io::AsyncWriteExt;
        let len = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
        if self.size.saturating_add(len) > self.max {
            return Err(SpoolError::TooLarge);
        }
        self.size += len;
        self.hasher.update(chunk);
        let want = yiwang_domain::upload::SNIFF_HEAD_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&chunk[..want.min(chunk.len())]);
        self.file.write_all(chunk).await?;
        Ok(())
    }

    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The received file, flushed (removed from disk when the last clone is dropped).
    pub async fn finish(mut self) -> std::io::Result<SpooledFile> {
        use tokio::io::AsyncWriteExt;
        self.file.flush().await?;
        let path = self
            .path
            .take()
            .ok_or_else(|| std::io::Error::other("spool already finished"))?;
        Ok(SpooledFile(Arc::new(Spooled {
            path,
            size: self.size,
            sha256: hex::encode(std::mem::take(&mut self.hasher).finalize()),
            head: std::mem::take(&mut self.head),
        })))
    }
}

/// A path removed when dropped.
#[derive(Debug)]
struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[derive(Debug)]
struct Spooled {
    path: TempPath,
    size: u64,
    sha256: String,
    head: Vec<u8>,
}

/// A received upload on disk (see [`Spool`]); the file goes away with the last clone.
#[derive(Debug, Clone)]
pub struct SpooledFile(Arc<Spooled>);

impl SpooledFile {
    pub fn path(&self) -> &Path {
        &self.0.path.0
    }
    pub fn size(&self) -> u64 {
        self.0.size
    }
    pub fn sha256(&self) -> &str {
        &self.0.sha256
    }
}

impl PartialEq for SpooledFile {
    fn eq(&self, other: &Self) -> bool {
        self.path() == other.path()
    }
}

impl Eq for SpooledFile {}

/// Why saving an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum SaveUploadError {
    #[error(transparent)]
    Files(#[from] FileStoreError),
    #[error(transparent)]
    Store(#[from] yiwang_store::StoreError),
}

impl SaveUploadError {
    /// The code for the user: the store's rule codes (`UploadLocked`, `NotFound`, …), else
    /// `Internal`.
    pub fn code(&self) -> yiwang_domain::ErrorCode {
        match self {
            SaveUploadError::Store(e) => e.code(),
            SaveUploadError::Files(_) => yiwang_domain::ErrorCode::Internal,
        }
    }
}

/// Where an upload goes: a material of an application, as a new file or replacing one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadTarget<'a> {
    pub owner_applicant_id: i64,
    pub application_id: i64,
    pub material_key: &'a str,
    /// `Some(id)`: replace that upload of the owner's.
    pub replaces: Option<i64>,
}

/// Puts the file in the file store, then records it (the file first: a record never points
/// at a missing file; a failed record leaves at most an unreferenced, content-addressed file).
/// The caller has checked that the applicant owns the application.
pub async fn save_upload(
    store: &yiwang_store::Store,
    files: &dyn FileStore,
    target: &UploadTarget<'_>,
    upload: &CheckedUpload,
    now_ms: i64,
) -> Result<yiwang_store::Upload, SaveUploadError> {
    let key = match &upload.content {
        UploadContent::Bytes(bytes) => files.put(bytes).await?,
        UploadContent::Spooled(file) => files.put_file(file.path(), &upload.sha256).await?,
    };
    if key != key_for(&upload.sha256) {
        return Err(FileStoreError::Corrupt.into());
    }
    let new = yiwang_store::NewUpload {
        owner_applicant_id: target.owner_applicant_id,
        application_id: target.application_id,
        material_key: target.material_key.to_string(),
        filename: upload.filename.clone(),
        kind: upload.kind,
        size: i64::try_from(upload.size).unwrap_or(i64::MAX),
        sha256: upload.sha256.clone(),
        storage_key: key,
    };
    let rec = match target.replaces {
        Some(old) => {
            store
                .replace_upload(target.owner_applicant_id, old, &new, now_ms)
                .await?
        }
        None => store.record_upload(&new, now_ms).await?,
    };
    Ok(rec)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn temp_root() -> PathBuf {
        std::env::temp_dir().join(format!(
            "yiwang-files-{}-{}",
            std::process::id(),
            temp_name()
        ))
    }

    /// A spool file left by a stopped process is removed once it is older than any request can
    /// be; young spool files (another process's upload in flight) and other files stay.
    #[tokio::test]
    async fn sweep_removes_only_old_leftover_spool_files() {
        let root = temp_root();
        let dir = root.join("tmp");
        let spool = Spool::create(&dir, 1024).await.unwrap();
        let young = spool.path.as_ref().unwrap().0.clone();
        let old = dir.join("spool-left-behind");
        std::fs::write(&old, b"half an upload").unwrap();
        let other = dir.join("notes.txt");
        std::fs::write(&other, b"not ours").unwrap();
        let hour = std::time::Duration::from_secs(3600);
        #[allow(
            clippy::disallowed_methods,
            reason = "file modification times are real time"
        )]
        let now = std::time::SystemTime::now();
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(now - 2 * hour)
            .unwrap();
        assert_eq!(Spool::sweep(&dir, hour, now).unwrap(), 1);
        assert!(!old.exists());
        assert!(young.exists(), "an upload in flight is kept");
        assert!(other.exists());
        assert_eq!(Spool::sweep(&root.join("missing"), hour, now).unwrap(), 0);
        drop(spool);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn put_get_delete_by_content_key() {
        let root = temp_root();
        let fs = LocalDirStore::new(&root).unwrap();
        let key = fs.put(b"%PDF-1.7 hello").await.unwrap();
        assert_eq!(key, key_for(&sha256_hex(b"%PDF-1.7 hello")));
        // Same content, same key, one file.
        assert_eq!(fs.put(b"%PDF-1.7 hello").await.unwrap(), key);
        assert_eq!(fs.get(&key).await.unwrap(), b"%PDF-1.7 hello");
        // Nothing left behind in tmp.
        assert_eq!(std::fs::read_dir(root.join("tmp")).unwrap().count(), 0);
        // Keys that could name another path are refused.
        for bad in ["../../etc/passwd", "sha256-../x", "sha256-ABC", ""] {
            assert!(
                matches!(fs.get(bad).await, Err(FileStoreError::BadKey)),
                "{bad}"
            );
            assert!(matches!(fs.delete(bad).await, Err(FileStoreError::BadKey)));
        }
        // Altered on disk: refused.
        let hex = parse_key(&key).unwrap();
        std::fs::write(fs.path_of(hex), b"tampered").unwrap();
        assert!(matches!(fs.get(&key).await, Err(FileStoreError::Corrupt)));
        fs.delete(&key).await.unwrap();
        fs.delete(&key).await.unwrap();
        assert!(matches!(fs.get(&key).await, Err(FileStoreError::NotFound)));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[tokio::test]
    async fn memory_store_behaves_like_the_directory() {
        let m = MemoryFileStore::default();
        let key = m.put(b"x").await.unwrap();
        assert_eq!(key, key_for(&sha256_hex(b"x")));
        assert_eq!(m.get(&key).await.unwrap(), b"x");
        assert!(matches!(m.get("../x").await, Err(FileStoreError::BadKey)));
        m.delete(&key).await.unwrap();
        assert!(matches!(m.get(&key).await, Err(FileStoreError::NotFound)));
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
