//! The AEAD ciphers: RustCrypto's generic GCM (`aes_gcm::AesGcm`) over SM4 or AES-256.

use crate::CryptoError;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm, Nonce};
use rand::RngCore;

/// SM4 in Galois/Counter Mode with a 96-bit nonce and a 128-bit tag.
type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;

/// A field-encryption algorithm; its id is recorded in front of every stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// `sm4-gcm`, the default (national cryptography, GB/T 39786).
    Sm4Gcm,
    /// `aes-256-gcm`.
    Aes256Gcm,
}

impl Alg {
    pub const ALL: [Alg; 2] = [Alg::Sm4Gcm, Alg::Aes256Gcm];
    pub fn id(self) -> &'static str {
        match self {
            Alg::Sm4Gcm => "sm4-gcm",
            Alg::Aes256Gcm => "aes-256-gcm",
        }
    }
    pub fn from_id(id: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.id() == id)
    }
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Alg::Sm4Gcm => 16,
            Alg::Aes256Gcm => 32,
        }
    }
    /// The algorithm a bare key of this length is meant for.
    pub fn for_key_len(n: usize) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.key_len() == n)
    }
}

/// A keyed cipher instance (the key schedule is computed once, when the ring is loaded).
pub(crate) enum Cipher {
    Sm4(Box<Sm4Gcm>),
    Aes(Box<Aes256Gcm>),
}

impl Cipher {
    pub(crate) fn new(alg: Alg, key: &[u8]) -> Result<Cipher, CryptoError> {
        let bad = |_| {
            CryptoError::BadKeySpec(format!(
                "{} needs a {}-byte key, got {}",
                alg.id(),
                alg.key_len(),
                key.len()
            ))
        };
        Ok(match alg {
            Alg::Sm4Gcm => Cipher::Sm4(Box::new(Sm4Gcm::new_from_slice(key).map_err(bad)?)),
            Alg::Aes256Gcm => Cipher::Aes(Box::new(Aes256Gcm::new_from_slice(key).map_err(bad)?)),
        })
    }

    /// `nonce ‖ ciphertext ‖ tag` with a fresh random nonce.
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        self.seal_with_nonce(nonce, aad, plaintext)
    }

    fn seal_with_nonce(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        let sealed = match self {
            Cipher::Sm4(c) => c.encrypt(&Nonce::<U12>::from(nonce), payload),
            Cipher::Aes(c) => c.encrypt(&Nonce::<U12>::from(nonce), payload),
        }
        .map_err(|_| CryptoError::Authentication)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let mut n = [0u8; NONCE_LEN];
        n.copy_from_slice(nonce);
        let payload = Payload { msg: body, aad };
        match self {
            Cipher::Sm4(c) => c.decrypt(&Nonce::<U12>::from(n), payload),
            Cipher::Aes(c) => c.decrypt(&Nonce::<U12>::from(n), payload),
        }
        .map_err(|_| CryptoError::Authentication)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SM4 itself against the example of GB/T 32907-2016 (appendix A.1), through the same
    /// `cipher` traits that GCM uses.
    #[test]
    fn sm4_standard_example() {
        use aes_gcm::aead::array::Array;
        use sm4::cipher::BlockCipherEncrypt;
        let key: [u8; 16] = [
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
            0x32, 0x10,
        ];
        let c = sm4::Sm4::new(&Array::from(key));
        let mut block = Array::from(key);
        c.encrypt_block(&mut block);
        assert_eq!(
            hex::encode(block.as_slice()),
            "681edf34d206965e86b3e94f536e4246"
        );
    }

    /// SM4-GCM against RFC 8998, appendix A.1.
    #[test]
    fn sm4_gcm_rfc8998_vector() {
        let key = hex::decode("0123456789ABCDEFFEDCBA9876543210").unwrap();
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&hex::decode("00001234567800000000ABCD").unwrap());
        let aad = hex::decode("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2").unwrap();
        let plain = hex::decode(concat!(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
            "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
        ))
        .unwrap();
        let expected = concat!(
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735",
            "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
            "83DE3541E4C2B58177E065A9BF7B62EC"
        );
        let c = Cipher::new(Alg::Sm4Gcm, &key).unwrap();
        let sealed = c.seal_with_nonce(nonce, &aad, &plain).unwrap();
        assert_eq!(&sealed[..NONCE_LEN], nonce.as_slice());
        assert_eq!(hex::encode_upper(&sealed[NONCE_LEN..]), expected);
        assert_eq!(c.open(&aad, &sealed).unwrap(), plain);
    }

    #[test]
    fn seal_open_and_tamper() {
        for alg in Alg::ALL {
            let key = vec![7u8; alg.key_len()];
            let c = Cipher::new(alg, &key).unwrap();
            let s = c.seal(b"t.c#1", b"hello").unwrap();
            assert_eq!(s.len(), NONCE_LEN + 5 + TAG_LEN);
            assert_eq!(c.open(b"t.c#1", &s).unwrap(), b"hello");
            assert_eq!(c.open(b"t.c#2", &s), Err(CryptoError::Authentication));
            let mut t = s.clone();
            t[NONCE_LEN] ^= 1;
            assert_eq!(c.open(b"t.c#1", &t), Err(CryptoError::Authentication));
            assert!(Cipher::new(alg, &key[1..]).is_err());
        }
    }
}
