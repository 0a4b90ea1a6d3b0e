//! Where uploaded files live. The key of a stored file is derived from its content
//! (`sha256-<hex>`), never from the name the user gave, so a name cannot reach the file system
//! and the same file uploaded twice is stored once. [`LocalDirStore`] keeps files in a
//! directory (the default); other stores (object storage) implement [`FileStore`].

use crate::jobs::BoxFuture;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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
}

/// Files in a directory: `<root>/<hex[0..2]>/<hex[2..4]>/<hex>`. A write goes to a temporary
/// file in `<root>/tmp`, is flushed to disk, then renamed into place, so a reader never sees
/// half a file and a crash leaves at most a stray temporary file.
#[derive(Debug, Clone)]
pub struct LocalDirStore {
    root: PathBuf,
}

impl LocalDirStore {
    /// Uses (and creates) `root`, e.g. `<data_dir>/files`.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, FileStoreError> {
        let root = root.into();
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(Self { root })
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
            if let Some(dir) = dest.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            let tmp = self.root.join("tmp").join(temp_name());
            let written = async {
                use tokio::io::AsyncWriteExt;
                let mut f = tokio::fs::File::create(&tmp).await?;
                f.write_all(bytes).await?;
                f.sync_all().await?;
                drop(f);
                tokio::fs::rename(&tmp, &dest).await
            }
            .await;
            if let Err(e) = written {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e.into());
            }
            Ok(key_for(&hex))
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Vec<u8>, FileStoreError>> {
        Box::pin(async move {
            let hex = parse_key(key).ok_or(FileStoreError::BadKey)?;
            let bytes = match tokio::fs::read(self.path_of(hex)).await {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(FileStoreError::NotFound);
                }
                Err(e) => return Err(e.into()),
            };
            if sha256_hex(&bytes) != hex {
                return Err(FileStoreError::Corrupt);
            }
            Ok(bytes)
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

/// An uploaded file that passed every check at the edge: its real type (sniffed), a safe
/// display name, its size and SHA-256, and the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedUpload {
    pub kind: yiwang_domain::upload::FileKind,
    pub filename: String,
    pub size: u64,
    pub sha256: String,
    pub bytes: Vec<u8>,
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
            bytes,
        })
    }
}

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
    let key = files.put(&upload.bytes).await?;
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
