//! The key ring: data keys by id (the last one is current) and the blind-index key.
//!
//! Keys are written `id=base64` or `id=alg:base64` (`k1=sm4-gcm:AAEC…`); a bare key of 16 bytes
//! is SM4-GCM, of 32 bytes AES-256-GCM. They come from the environment
//! (`YIWANG_DATA_KEYS="k1=…,k2=…"` and `YIWANG_INDEX_KEY="i1=…"`) or from a TOML key file named by
//! `YIWANG_KEY_FILE`:
//!
//! ```toml
//! index_key = "i1=…"
//! data_keys = ["k1=sm4-gcm:…", "k2=sm4-gcm:…"]   # the last one is current
//! ```

use crate::CryptoError;
use crate::aead::{Alg, Cipher};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sm3::Sm3;
use std::fmt;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub const DATA_KEYS_ENV: &str = "YIWANG_DATA_KEYS";
pub const INDEX_KEY_ENV: &str = "YIWANG_INDEX_KEY";
pub const KEY_FILE_ENV: &str = "YIWANG_KEY_FILE";
/// Algorithm id in front of every blind index.
pub const INDEX_PREFIX: &str = "hmac-sm3";
const MIN_INDEX_KEY_LEN: usize = 16;

/// Where a ring's keys were read from (for the start-up log line; never the keys themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    File(PathBuf),
    /// Built in code (tests, benchmarks).
    Inline,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Environment => write!(f, "environment ({DATA_KEYS_ENV}, {INDEX_KEY_ENV})"),
            KeySource::File(p) => write!(f, "key file {}", p.display()),
            KeySource::Inline => f.write_str("inline"),
        }
    }
}

struct DataKey {
    id: String,
    alg: Alg,
    cipher: Cipher,
}

struct IndexKey {
    id: String,
    mac: Hmac<Sm3>,
}

/// Data keys and the index key. Cheap to share behind an `Arc`; `Debug` shows ids only.
pub struct KeyRing {
    data: Vec<DataKey>,
    index: IndexKey,
    source: KeySource,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("data_keys", &self.data_key_ids())
            .field("current", &self.current_key_id())
            .field("index_key", &self.index.id)
            .field("source", &self.source)
            .finish()
    }
}

fn id_ok(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// One parsed `id=[alg:]base64` entry: id, algorithm if written, key bytes.
type Entry = (String, Option<Alg>, Zeroizing<Vec<u8>>);

fn parse_entry(entry: &str) -> Result<Entry, CryptoError> {
    let bad = |why: &str| CryptoError::BadKeySpec(why.to_string());
    let (id, rest) = entry
        .trim()
        .split_once('=')
        .ok_or_else(|| bad("expected id=base64key"))?;
    let id = id.trim();
    if !id_ok(id) {
        return Err(bad("a key id is 1–32 letters, digits, '-' or '_'"));
    }
    let (alg, b64) = match rest.split_once(':') {
        Some((a, k)) => (
            Some(Alg::from_id(a.trim()).ok_or_else(|| CryptoError::UnknownAlgorithm(a.into()))?),
            k,
        ),
        None => (None, rest),
    };
    let bytes = Zeroizing::new(
        B64.decode(b64.trim())
            .map_err(|_| bad(&format!("key {id} is not valid base64")))?,
    );
    Ok((id.to_string(), alg, bytes))
}

fn encode_entry(id: &str, alg: Option<Alg>, key: &[u8]) -> String {
    match alg {
        Some(a) => format!("{id}={}:{}", a.id(), B64.encode(key)),
        None => format!("{id}={}", B64.encode(key)),
    }
}

fn random_key(len: usize) -> Zeroizing<Vec<u8>> {
    let mut k = Zeroizing::new(vec![0u8; len]);
    rand::rng().fill_bytes(&mut k);
    k
}

impl KeyRing {
    /// Builds a ring from data-key entries (oldest first, the last is current) and the index key.
    pub fn from_entries<'a>(
        data_keys: impl IntoIterator<Item = &'a str>,
        index_key: &str,
        source: KeySource,
    ) -> Result<KeyRing, CryptoError> {
        let mut data: Vec<DataKey> = Vec::new();
        for entry in data_keys {
            if entry.trim().is_empty() {
                continue;
            }
            let (id, alg, bytes) = parse_entry(entry)?;
            let alg = match alg {
                Some(a) => a,
                None => Alg::for_key_len(bytes.len()).ok_or_else(|| {
                    CryptoError::BadKeySpec(format!(
                        "key {id} has {} bytes; SM4 keys have 16, AES-256 keys 32",
                        bytes.len()
                    ))
                })?,
            };
            if data.iter().any(|k| k.id == id) {
                return Err(CryptoError::BadKeySpec(format!(
                    "key id {id} appears twice"
                )));
            }
            let cipher = Cipher::new(alg, &bytes)?;
            data.push(DataKey { id, alg, cipher });
        }
        if data.is_empty() {
            return Err(CryptoError::BadKeySpec("no data key given".into()));
        }
        let (id, alg, bytes) = parse_entry(index_key)?;
        if alg.is_some() {
            return Err(CryptoError::BadKeySpec(
                "the index key is written id=base64 (it is always HMAC-SM3)".into(),
            ));
        }
        if bytes.len() < MIN_INDEX_KEY_LEN {
            return Err(CryptoError::BadKeySpec(format!(
                "the index key needs at least {MIN_INDEX_KEY_LEN} bytes"
            )));
        }
        let mac = <Hmac<Sm3> as KeyInit>::new_from_slice(&bytes)
            .map_err(|_| CryptoError::BadKeySpec("index key".into()))?;
        Ok(KeyRing {
            data,
            index: IndexKey { id, mac },
            source,
        })
    }

    /// `YIWANG_DATA_KEYS` + `YIWANG_INDEX_KEY`, else the file named by `YIWANG_KEY_FILE`, else
    /// `None` (no keys configured).
    pub fn from_env() -> Result<Option<KeyRing>, CryptoError> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        if let Some(data) = var(DATA_KEYS_ENV) {
            let data = Zeroizing::new(data);
            let index = Zeroizing::new(var(INDEX_KEY_ENV).ok_or_else(|| {
                CryptoError::BadKeySpec(format!(
                    "{DATA_KEYS_ENV} is set but {INDEX_KEY_ENV} is not"
                ))
            })?);
            return KeyRing::from_entries(data.split(','), &index, KeySource::Environment)
                .map(Some);
        }
        match var(KEY_FILE_ENV) {
            Some(path) => KeyRing::load_file(Path::new(&path)).map(Some),
            None => Ok(None),
        }
    }

    /// Reads a TOML key file. On Unix the file must not be readable by group or others.
    pub fn load_file(path: &Path) -> Result<KeyRing, CryptoError> {
        let fail = |reason: String| CryptoError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(fail(format!(
                    "permissions {:o} let others read it; run chmod 600",
                    mode & 0o777
                )));
            }
        }
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?);
        let file = KeyFile::parse(&text).map_err(|e| fail(e.to_string()))?;
        file.ring(KeySource::File(path.to_path_buf()))
            .map_err(|e| fail(e.to_string()))
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// Data key ids, oldest first.
    pub fn data_key_ids(&self) -> Vec<&str> {
        self.data.iter().map(|k| k.id.as_str()).collect()
    }

    fn current(&self) -> &DataKey {
        // `from_entries` refuses an empty ring.
        &self.data[self.data.len() - 1]
    }

    /// The key that encrypts new values.
    pub fn current_key_id(&self) -> &str {
        &self.current().id
    }

    pub fn current_alg(&self) -> Alg {
        self.current().alg
    }

    pub fn index_key_id(&self) -> &str {
        &self.index.id
    }

    /// Encrypts `plaintext` under the current key: `alg:key_id:base64(nonce‖ct‖tag)`.
    pub fn encrypt(&self, aad: &str, plaintext: &str) -> Result<String, CryptoError> {
        if crate::baseline::plaintext() {
            return Ok(format!("{}{plaintext}", crate::baseline::PLAIN_PREFIX));
        }
        let k = self.current();
        let sealed = k.cipher.seal(aad.as_bytes(), plaintext.as_bytes())?;
        Ok(format!("{}:{}:{}", k.alg.id(), k.id, B64.encode(sealed)))
    }

    /// Decrypts a stored value under whichever key of the ring it names. Any mismatch — unknown
    /// key, other algorithm, altered bytes, other associated data — is an error.
    pub fn decrypt(&self, aad: &str, stored: &str) -> Result<String, CryptoError> {
        if crate::baseline::plaintext()
            && let Some(plain) = stored.strip_prefix(crate::baseline::PLAIN_PREFIX)
        {
            return Ok(plain.to_string());
        }
        let mut parts = stored.splitn(3, ':');
        let (Some(alg), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CryptoError::Malformed);
        };
        let alg = Alg::from_id(alg).ok_or_else(|| CryptoError::UnknownAlgorithm(alg.into()))?;
        let key = self
            .data
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| CryptoError::UnknownKey(id.into()))?;
        if key.alg != alg {
            return Err(CryptoError::Authentication);
        }
        let sealed = B64.decode(body).map_err(|_| CryptoError::Malformed)?;
        let plain = Zeroizing::new(key.cipher.open(aad.as_bytes(), &sealed)?);
        String::from_utf8(plain.to_vec()).map_err(|_| CryptoError::NotText)
    }

    /// Seals bytes (e.g. one segment of a stored file) under the key `key_id` of the ring:
    /// `nonce ‖ ciphertext ‖ tag`. The caller records the key id and algorithm with the value
    /// (see [`KeyRing::key_alg`]).
    pub fn seal_bytes(
        &self,
        key_id: &str,
        aad: &[u8],
        plain: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let key = self.data_key(key_id)?;
        key.cipher.seal(aad, plain)
    }

    /// Opens bytes sealed by [`KeyRing::seal_bytes`] under `key_id`, which must be a key of
    /// algorithm `alg` in the ring (any key, not only the current one).
    pub fn open_bytes(
        &self,
        key_id: &str,
        alg: Alg,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let key = self.data_key(key_id)?;
        if key.alg != alg {
            return Err(CryptoError::Authentication);
        }
        Ok(Zeroizing::new(key.cipher.open(aad, sealed)?))
    }

    /// The algorithm of the ring's key `key_id`.
    pub fn key_alg(&self, key_id: &str) -> Result<Alg, CryptoError> {
        Ok(self.data_key(key_id)?.alg)
    }

    fn data_key(&self, key_id: &str) -> Result<&DataKey, CryptoError> {
        self.data
            .iter()
            .find(|k| k.id == key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.into()))
    }

    /// Whether a stored value is under another key than the current one (rotation needed).
    pub fn is_current(&self, stored: &str) -> bool {
        let k = self.current();
        stored
            .strip_prefix(k.alg.id())
            .and_then(|r| r.strip_prefix(':'))
            .and_then(|r| r.strip_prefix(k.id.as_str()))
            .is_some_and(|r| r.starts_with(':'))
    }

    /// `hmac-sm3:<index_key_id>:<hex>` of `kind` and the normalised value; `kind` (e.g. `phone`)
    /// keeps equal strings of different kinds apart.
    pub fn blind_index(&self, kind: &str, normalised: &str) -> String {
        let mut mac = self.index.mac.clone();
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        format!(
            "{INDEX_PREFIX}:{}:{}",
            self.index.id,
            hex::encode(mac.finalize().into_bytes())
        )
    }

    /// Whether a stored blind index was made with the current index key.
    pub fn index_is_current(&self, index: &str) -> bool {
        index
            .strip_prefix(INDEX_PREFIX)
            .and_then(|r| r.strip_prefix(':'))
            .and_then(|r| r.strip_prefix(self.index.id.as_str()))
            .is_some_and(|r| r.starts_with(':'))
    }
}

/// The key file's content (also what `yiwang keys generate` writes).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    pub index_key: String,
    /// Oldest first; the last one is current.
    pub data_keys: Vec<String>,
}

impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyFile { .. }")
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.index_key.zeroize();
        for k in &mut self.data_keys {
            k.zeroize();
        }
    }
}

impl KeyFile {
    pub fn parse(text: &str) -> Result<KeyFile, CryptoError> {
        toml::from_str(text).map_err(|e| CryptoError::BadKeySpec(e.message().to_string()))
    }

    /// A new file with one random data key `k1` of `alg` and a random 32-byte index key `i1`.
    pub fn generate(alg: Alg) -> KeyFile {
        KeyFile {
            index_key: encode_entry("i1", None, &random_key(32)),
            data_keys: vec![encode_entry("k1", Some(alg), &random_key(alg.key_len()))],
        }
    }

    /// Appends a new random data key, which becomes current; returns its id (`k<n>`).
    pub fn add_data_key(&mut self, alg: Alg) -> String {
        let ids: Vec<String> = self
            .data_keys
            .iter()
            .filter_map(|e| e.split_once('=').map(|(id, _)| id.trim().to_string()))
            .collect();
        let mut n = self.data_keys.len() + 1;
        while ids.contains(&format!("k{n}")) {
            n += 1;
        }
        let id = format!("k{n}");
        self.data_keys
            .push(encode_entry(&id, Some(alg), &random_key(alg.key_len())));
        id
    }

    pub fn ring(&self, source: KeySource) -> Result<KeyRing, CryptoError> {
        KeyRing::from_entries(
            self.data_keys.iter().map(String::as_str),
            &self.index_key,
            source,
        )
    }

    /// The file's text, with a comment saying what it is.
    pub fn to_toml(&self) -> String {
        let mut s = String::from(
            "# yiwang data keys. Secret: keep this file readable by the service account only\n\
             # (chmod 600), outside the database and its backups. The last data key encrypts new\n\
             # values; every listed key decrypts. Remove an old key only after `yiwang keys rotate`\n\
             # reports that no value uses it.\n",
        );
        s.push_str(&format!("index_key = \"{}\"\n", self.index_key));
        s.push_str("data_keys = [\n");
        for k in &self.data_keys {
            s.push_str(&format!("    \"{k}\",\n"));
        }
        s.push_str("]\n");
        s
    }
}
