//! The field-encryption contract: stored form, round trips, refusals (never garbage), key
//! rotation inside one ring, blind indexes and key files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use proptest::prelude::*;
use yiwang_crypto::{
    Alg, CryptoError, KeyFile, KeyRing, KeySource, NONCE_LEN, TAG_LEN, field_aad, key_id_of,
};

fn key(byte: u8, len: usize) -> String {
    B64.encode(vec![byte; len])
}

fn ring(data: &[&str]) -> KeyRing {
    let idx = format!("i1={}", key(9, 32));
    KeyRing::from_entries(data.iter().copied(), &idx, KeySource::Inline).unwrap()
}

fn k(id: &str, byte: u8) -> String {
    format!("{id}=sm4-gcm:{}", key(byte, 16))
}

#[test]
fn stored_form_and_round_trip_for_both_algorithms() {
    let aes = format!("a1=aes-256-gcm:{}", key(3, 32));
    for (spec, alg) in [(k("k1", 1), Alg::Sm4Gcm), (aes, Alg::Aes256Gcm)] {
        let r = ring(&[&spec]);
        let aad = field_aad("users", "phone", 7);
        assert_eq!(aad, "users.phone#7");
        let stored = r.encrypt(&aad, "13812345678").unwrap();
        let parts: Vec<&str> = stored.splitn(3, ':').collect();
        assert_eq!(parts[0], alg.id());
        assert_eq!(parts[1], r.current_key_id());
        let raw = B64.decode(parts[2]).unwrap();
        assert_eq!(raw.len(), NONCE_LEN + 11 + TAG_LEN);
        assert!(!stored.contains("13812345678"));
        assert_eq!(r.decrypt(&aad, &stored).unwrap(), "13812345678");
        assert_eq!(key_id_of(&stored), Some(r.current_key_id()));
    }
    // Unicode survives (addresses come later).
    let r = ring(&[&k("k1", 1)]);
    let s = r.encrypt("a.b#1", "天津市津南区咸水沽镇").unwrap();
    assert_eq!(r.decrypt("a.b#1", &s).unwrap(), "天津市津南区咸水沽镇");
    assert_eq!(
        r.decrypt("a.b#1", &r.encrypt("a.b#1", "").unwrap())
            .unwrap(),
        ""
    );
}

#[test]
fn same_plaintext_gives_different_ciphertexts_but_equal_index() {
    let r = ring(&[&k("k1", 1)]);
    let aad = field_aad("users", "phone", 1);
    let a = r.encrypt(&aad, "13812345678").unwrap();
    let b = r.encrypt(&aad, "13812345678").unwrap();
    assert_ne!(a, b, "a fresh random nonce each time");
    let ia = r.blind_index("phone", "13812345678");
    let ib = r.blind_index("phone", "13812345678");
    assert_eq!(ia, ib);
    assert!(ia.starts_with("hmac-sm3:i1:"));
    assert_eq!(ia.len(), "hmac-sm3:i1:".len() + 64);
    assert_ne!(ia, r.blind_index("phone", "13812345679"));
    // The kind separates equal strings of different meaning.
    assert_ne!(ia, r.blind_index("resident_id", "13812345678"));
    // Another index key gives unrelated indexes.
    let other = KeyRing::from_entries(
        [k("k1", 1).as_str()],
        &format!("i1={}", key(8, 32)),
        KeySource::Inline,
    )
    .unwrap();
    assert_ne!(ia, other.blind_index("phone", "13812345678"));
    assert!(r.index_is_current(&ia));
    assert!(!r.index_is_current("hmac-sm3:i0:00"));
}

#[test]
fn every_mismatch_is_an_error_never_garbage() {
    let r = ring(&[&k("k1", 1)]);
    let aad = field_aad("users", "phone", 1);
    let stored = r.encrypt(&aad, "13812345678").unwrap();

    // Moved to another column or another row.
    assert_eq!(
        r.decrypt(&field_aad("users", "id_number", 1), &stored),
        Err(CryptoError::Authentication)
    );
    assert_eq!(
        r.decrypt(&field_aad("users", "phone", 2), &stored),
        Err(CryptoError::Authentication)
    );
    // A key id the ring does not have.
    let renamed = stored.replacen(":k1:", ":k9:", 1);
    assert_eq!(
        r.decrypt(&aad, &renamed),
        Err(CryptoError::UnknownKey("k9".into()))
    );
    // The right id but another key's bytes.
    let imposter = ring(&[&k("k1", 2)]);
    assert_eq!(
        imposter.decrypt(&aad, &stored),
        Err(CryptoError::Authentication)
    );
    // The algorithm label changed.
    let relabelled = stored.replacen("sm4-gcm:", "aes-256-gcm:", 1);
    assert_eq!(
        r.decrypt(&aad, &relabelled),
        Err(CryptoError::Authentication)
    );
    assert!(matches!(
        r.decrypt(&aad, &stored.replacen("sm4-gcm:", "des:", 1)),
        Err(CryptoError::UnknownAlgorithm(_))
    ));
    // Every single flipped bit of nonce, ciphertext or tag.
    let body = B64.decode(stored.splitn(3, ':').nth(2).unwrap()).unwrap();
    for i in 0..body.len() {
        for bit in [0x01u8, 0x80] {
            let mut t = body.clone();
            t[i] ^= bit;
            let tampered = format!("sm4-gcm:k1:{}", B64.encode(&t));
            assert_eq!(
                r.decrypt(&aad, &tampered),
                Err(CryptoError::Authentication),
                "byte {i}"
            );
        }
    }
    // Truncated, extended, not base64, not the stored form at all.
    let short = format!(
        "sm4-gcm:k1:{}",
        B64.encode(&body[..NONCE_LEN + TAG_LEN - 1])
    );
    assert_eq!(r.decrypt(&aad, &short), Err(CryptoError::Malformed));
    let mut longer = body.clone();
    longer.push(0);
    let longer = format!("sm4-gcm:k1:{}", B64.encode(&longer));
    assert_eq!(r.decrypt(&aad, &longer), Err(CryptoError::Authentication));
    assert_eq!(
        r.decrypt(&aad, "sm4-gcm:k1:***"),
        Err(CryptoError::Malformed)
    );
    assert_eq!(r.decrypt(&aad, "13812345678"), Err(CryptoError::Malformed));
}

#[test]
fn rotation_within_a_ring() {
    let old = ring(&[&k("k1", 1)]);
    let aad = field_aad("users", "phone", 3);
    let stored = old.encrypt(&aad, "13812345678").unwrap();
    let both = ring(&[&k("k1", 1), &k("k2", 2)]);
    assert_eq!(both.current_key_id(), "k2");
    assert!(!both.is_current(&stored));
    assert_eq!(both.decrypt(&aad, &stored).unwrap(), "13812345678");
    let rotated = both
        .encrypt(&aad, &both.decrypt(&aad, &stored).unwrap())
        .unwrap();
    assert!(both.is_current(&rotated));
    // Once everything is rotated, k1 can go.
    let new_only = ring(&[&k("k2", 2)]);
    assert_eq!(new_only.decrypt(&aad, &rotated).unwrap(), "13812345678");
    assert_eq!(
        new_only.decrypt(&aad, &stored),
        Err(CryptoError::UnknownKey("k1".into()))
    );
    // A key id that merely starts like the current one is not current.
    let k22 = ring(&[&k("k22", 5)]);
    let s22 = k22.encrypt(&aad, "x").unwrap();
    assert!(!both.is_current(&s22));
}

#[test]
fn key_specs_are_checked() {
    let idx = format!("i1={}", key(9, 32));
    let bad = |data: &str, index: &str| {
        KeyRing::from_entries(data.split(','), index, KeySource::Inline).is_err()
    };
    assert!(bad("", &idx));
    assert!(bad("k1", &idx));
    assert!(bad(&format!("k1={}", key(1, 15)), &idx));
    assert!(bad(&format!("k1=sm4-gcm:{}", key(1, 32)), &idx));
    assert!(bad(&format!("k:1={}", key(1, 16)), &idx));
    assert!(bad(&format!("k1={},k1={}", key(1, 16), key(2, 16)), &idx));
    assert!(bad(
        &format!("k1={}", key(1, 16)),
        &format!("i1={}", key(9, 8))
    ));
    assert!(bad(&format!("k1={}", key(1, 16)), "i1=not base64!"));
    // Bare keys: 16 bytes SM4-GCM, 32 bytes AES-256-GCM.
    let r = KeyRing::from_entries(
        [
            format!("k1={}", key(1, 16)).as_str(),
            format!("k2={}", key(1, 32)).as_str(),
        ],
        &idx,
        KeySource::Inline,
    )
    .unwrap();
    assert_eq!(r.current_alg(), Alg::Aes256Gcm);
    assert_eq!(r.data_key_ids(), ["k1", "k2"]);
    // Debug shows ids, never key bytes.
    let dbg = format!("{r:?}");
    assert!(dbg.contains("k2") && !dbg.contains(&key(1, 16)));
}

#[test]
fn key_files_generate_parse_and_grow() {
    let mut f = KeyFile::generate(Alg::Sm4Gcm);
    let text = f.to_toml();
    assert!(text.starts_with('#'));
    let parsed = KeyFile::parse(&text).unwrap();
    let r1 = parsed.ring(KeySource::Inline).unwrap();
    assert_eq!(r1.current_key_id(), "k1");
    assert_eq!(r1.current_alg(), Alg::Sm4Gcm);
    let aad = field_aad("users", "phone", 1);
    let s1 = r1.encrypt(&aad, "13812345678").unwrap();
    assert_eq!(f.add_data_key(Alg::Sm4Gcm), "k2");
    let r2 = KeyFile::parse(&f.to_toml())
        .unwrap()
        .ring(KeySource::Inline)
        .unwrap();
    assert_eq!(r2.current_key_id(), "k2");
    assert_eq!(r2.decrypt(&aad, &s1).unwrap(), "13812345678");
    // The index key stays, so blind indexes stay valid.
    assert_eq!(r1.blind_index("phone", "1"), r2.blind_index("phone", "1"));
    assert!(KeyFile::parse("index_key = \"i1=x\"\ndata_keys = []\nextra = 1\n").is_err());
    assert_eq!(format!("{f:?}"), "KeyFile { .. }");
}

#[cfg(unix)]
#[test]
fn key_files_readable_by_others_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("yiwang-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keys.toml");
    std::fs::write(&path, KeyFile::generate(Alg::Sm4Gcm).to_toml()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = KeyRing::load_file(&path).unwrap_err();
    assert!(err.to_string().contains("chmod 600"), "{err}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = KeyRing::load_file(&path).unwrap();
    assert_eq!(r.source(), &KeySource::File(path.clone()));
    std::fs::remove_dir_all(&dir).unwrap();
}

proptest! {
    #[test]
    fn round_trip_any_text(s in "\\PC{0,64}", row in 0i64..1_000_000) {
        let r = ring(&[&k("k1", 1)]);
        let aad = field_aad("users", "phone", row);
        let stored = r.encrypt(&aad, &s).unwrap();
        prop_assert_eq!(r.decrypt(&aad, &stored).unwrap(), s);
    }

    #[test]
    fn decrypt_never_panics(s in "\\PC{0,80}") {
        let r = ring(&[&k("k1", 1)]);
        prop_assert!(r.decrypt("users.phone#1", &s).is_err());
    }
}
