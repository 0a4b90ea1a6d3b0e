//! A population register (provider) answering the market regulator's yiwang (requester), and
//! everything an attacker or a broken peer could change on the way.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::log::{BreakKind, ChainVerifier, Tail, append};
use yiwang_domain::case::CaseNumber;
use yiwang_domain::codes::{CreditCode, ImplCode};

/// One named change to a value, for tamper tables.
type Edit<T> = fn(&mut T);

fn org(first17: &str) -> CreditCode {
    CreditCode::with_check_char(first17).unwrap()
}
fn market() -> CreditCode {
    org("11120112MB1W16732")
}
fn police() -> CreditCode {
    org("11120112MB0000001")
}

fn fields() -> EnvelopeFields {
    EnvelopeFields {
        message_id: MessageId::parse("req-20261208-000001").unwrap(),
        requester: Party {
            org: market(),
            system: SystemName::parse("yiwang-jinnan").unwrap(),
        },
        provider: Party {
            org: police(),
            system: SystemName::parse("population-register").unwrap(),
        },
        service: ServiceCode::parse("population/person-by-id/v1").unwrap(),
        case_number: Some(
            CaseNumber::parse("11120112MB1W167324000123001001-20261208-000042").unwrap(),
        ),
        item_code: ImplCode::parse("11120112MB1W167324000123001001").unwrap(),
        purpose: Purpose::parse("办理食品经营许可（新办）核验申请人身份").unwrap(),
        legal_basis: Purpose::parse("《食品经营许可和备案管理办法》第十二条").unwrap(),
        end_user: EndUser::parse("120112********002X").unwrap(),
        created_at: 1_796_688_000_000,
    }
}

fn envelope() -> Envelope {
    Envelope::new(fields()).unwrap()
}

fn key(id: &str, org: CreditCode, seed: u8) -> SealKey {
    SealKey::sm2_from_secret(KeyId::parse(id).unwrap(), org, &[seed; 32]).unwrap()
}
fn requester_key() -> SealKey {
    key("scjg-2026", market(), 7)
}
fn provider_key() -> SealKey {
    key("gaj-2026", police(), 9)
}

fn bundle() -> TrustBundle {
    let mut b = TrustBundle::default();
    for k in [requester_key(), provider_key()] {
        b.insert(k.key_id().clone(), k.trusted_key()).unwrap();
    }
    b
}

const BODY: &[u8] = br#"{"id":"12011219800101002X","name":"Zhang San"}"#;
const ANSWER: &[u8] =
    r#"{"match":"unique","name":"Zhang San","address":"津南区咸水沽镇"}"#.as_bytes();

#[test]
fn a_sealed_request_and_its_answer_verify() {
    let b = bundle();
    let req = requester_key().sign_request(envelope(), BODY);
    assert_eq!(b.verify_request(&req, BODY), Ok(()));
    let resp = provider_key().sign_response(&req, ANSWER);
    assert_eq!(resp.request_digest, req.digest());
    assert_eq!(b.verify_response(&req, &resp, ANSWER), Ok(()));
    // The seal's text names the algorithm and key and reads back to the same seal.
    let text = req.seal.to_string();
    assert!(text.starts_with("sm2-sm3:scjg-2026:"), "{text}");
    assert_eq!(Seal::parse(&text).unwrap(), req.seal);
}

/// Every field of the envelope, changed after sealing, makes the seal fail.
#[test]
fn changing_any_envelope_field_breaks_the_seal() {
    let b = bundle();
    let sealed = requester_key().sign_request(envelope(), BODY);
    let changes: Vec<(&str, Edit<EnvelopeFields>)> = vec![
        ("message_id", |f| {
            f.message_id = MessageId::parse("req-20261208-000002").unwrap()
        }),
        ("requester.org", |f| {
            f.requester.org = org("11120112MB0000002")
        }),
        ("requester.system", |f| {
            f.requester.system = SystemName::parse("yiwang-other").unwrap()
        }),
        ("provider.org", |f| {
            f.provider.org = org("11120112MB0000003")
        }),
        ("provider.system", |f| {
            f.provider.system = SystemName::parse("population-copy").unwrap()
        }),
        ("service", |f| {
            f.service = ServiceCode::parse("population/household/v1").unwrap()
        }),
        ("case_number", |f| {
            f.case_number =
                Some(CaseNumber::parse("11120112MB1W167324000123001001-20261208-000043").unwrap())
        }),
        ("case_number absent", |f| f.case_number = None),
        ("item_code", |f| {
            f.item_code = ImplCode::parse("11120112MB1W167324000123001002").unwrap()
        }),
        ("purpose", |f| {
            f.purpose = Purpose::parse("营销推广").unwrap()
        }),
        ("legal_basis", |f| {
            f.legal_basis = Purpose::parse("无").unwrap()
        }),
        ("end_user", |f| {
            f.end_user = EndUser::parse("120112********0031").unwrap()
        }),
        ("created_at", |f| f.created_at += 1),
    ];
    for (what, change) in changes {
        let mut f = fields();
        change(&mut f);
        assert_ne!(f, fields(), "{what}: the change must change something");
        let forged = SignedRequest {
            envelope: Envelope::new(f).unwrap(),
            ..sealed.clone()
        };
        let got = b.verify_request(&forged, BODY);
        // A changed requester org is refused before the signature is even checked.
        let want = if what == "requester.org" {
            VerifyError::WrongSigner
        } else {
            VerifyError::BadSignature
        };
        assert_eq!(got, Err(want), "{what}");
    }
}

#[test]
fn the_body_is_bound_by_its_digest() {
    let b = bundle();
    let req = requester_key().sign_request(envelope(), BODY);
    assert_eq!(
        b.verify_request(&req, b"{\"id\":\"other\"}"),
        Err(VerifyError::BodyDigest)
    );
    // Replacing body and digest together leaves the seal over the old digest.
    let other = b"{\"id\":\"other\"}";
    let forged = SignedRequest {
        body_digest: sm3(other),
        ..req
    };
    assert_eq!(
        b.verify_request(&forged, other),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn verification_fails_closed() {
    let b = bundle();
    let req = requester_key().sign_request(envelope(), BODY);

    // A key nobody published.
    let stranger = key("scjg-rogue", market(), 11).sign_request(envelope(), BODY);
    assert_eq!(
        b.verify_request(&stranger, BODY),
        Err(VerifyError::UnknownKey)
    );

    // The provider's own key cannot seal a request in the requester's name.
    let impostor = provider_key().sign_request(envelope(), BODY);
    assert_eq!(
        b.verify_request(&impostor, BODY),
        Err(VerifyError::WrongSigner)
    );

    // A published key id reused with another key: the signature does not verify.
    let swapped = key("scjg-2026", market(), 12).sign_request(envelope(), BODY);
    assert_eq!(
        b.verify_request(&swapped, BODY),
        Err(VerifyError::BadSignature)
    );

    // One flipped bit in the signature.
    let mut flipped = req.clone();
    flipped.seal.signature[5] ^= 1;
    assert_eq!(
        b.verify_request(&flipped, BODY),
        Err(VerifyError::BadSignature)
    );
    let mut short = req.clone();
    short.seal.signature.truncate(10);
    assert_eq!(
        b.verify_request(&short, BODY),
        Err(VerifyError::BadSignature)
    );

    // Algorithms we do not know, and malformed seals, are refused when read.
    let text = req.seal.to_string();
    let ed = text.replacen("sm2-sm3", "ed25519", 1);
    assert_eq!(Seal::parse(&ed), Err(VerifyError::UnsupportedAlgorithm));
    assert_eq!(Seal::parse("sm2-sm3:k"), Err(VerifyError::Malformed));
    assert_eq!(
        Seal::parse("sm2-sm3:k:not base64!"),
        Err(VerifyError::Malformed)
    );

    // An empty bundle trusts nobody.
    assert_eq!(
        TrustBundle::default().verify_request(&req, BODY),
        Err(VerifyError::UnknownKey)
    );
}

#[test]
fn a_response_must_answer_this_request() {
    let b = bundle();
    let req = requester_key().sign_request(envelope(), BODY);
    let resp = provider_key().sign_response(&req, ANSWER);

    // The answer to another request (same id, other body) is not this answer.
    let other_req = requester_key().sign_request(envelope(), b"{\"id\":\"other\"}");
    let other_resp = provider_key().sign_response(&other_req, ANSWER);
    assert_eq!(
        b.verify_response(&req, &other_resp, ANSWER),
        Err(VerifyError::RequestDigest)
    );

    // Another message id.
    let mut f = fields();
    f.message_id = MessageId::parse("req-20261208-000009").unwrap();
    let third = requester_key().sign_request(Envelope::new(f).unwrap(), BODY);
    assert_eq!(
        b.verify_response(&third, &resp, ANSWER),
        Err(VerifyError::MessageId)
    );

    // A changed answer, a changed digest, or an answer sealed by the requester itself.
    assert_eq!(
        b.verify_response(&req, &resp, b"{\"match\":\"none\"}"),
        Err(VerifyError::BodyDigest)
    );
    let forged = SignedResponse {
        body_digest: sm3(b"{}"),
        ..resp.clone()
    };
    assert_eq!(
        b.verify_response(&req, &forged, b"{}"),
        Err(VerifyError::BadSignature)
    );
    let self_sealed = requester_key().sign_response(&req, ANSWER);
    assert_eq!(
        b.verify_response(&req, &self_sealed, ANSWER),
        Err(VerifyError::WrongSigner)
    );
}

#[test]
fn the_trust_bundle_publishes_and_reads_back() {
    let b = bundle();
    let json = b.to_json();
    let back = TrustBundle::from_json(&json).unwrap();
    let req = requester_key().sign_request(envelope(), BODY);
    assert_eq!(back.verify_request(&req, BODY), Ok(()));
    assert_eq!(
        back.get(requester_key().key_id()).map(|k| &k.org),
        Some(&market())
    );
    // A key that is not a curve point, an unknown algorithm, an unknown field: refused.
    let bad_point = json.replacen("\"public_key\": \"", "\"public_key\": \"AAAA", 1);
    assert!(TrustBundle::from_json(&bad_point).is_err());
    assert!(TrustBundle::from_json(&json.replace("sm2-sm3", "rsa")).is_err());
    assert!(TrustBundle::from_json(r#"{"keys":{},"extra":1}"#).is_err());
}

#[test]
fn canonical_bytes_are_stable_and_survive_json() {
    let e = envelope();
    assert_eq!(e.canonical_bytes(), envelope().canonical_bytes());
    let back = Envelope::from_json(&e.to_json()).unwrap();
    assert_eq!(back.canonical_bytes(), e.canonical_bytes());
    // JSON is checked like any outside input.
    let bad = e
        .to_json()
        .replace("120112********002X", "12011219800101002X");
    assert!(Envelope::from_json(&bad).is_err());
    let mut same = fields();
    same.provider = same.requester.clone();
    assert_eq!(Envelope::new(same), Err(EnvelopeError::SameParty));
}

#[test]
fn a_message_id_is_accepted_once_per_requester_within_the_window() {
    let mut guard = SeenIds::new(300_000, 5_000);
    let e = envelope();
    let now = e.created_at() + 1_000;
    assert_eq!(guard.first_use(&e, now), Ok(()));
    assert_eq!(guard.first_use(&e, now + 10), Err(Replayed::Seen));
    // The same id from another department is another message.
    let mut f = fields();
    f.requester.org = org("11120112MB0000009");
    assert_eq!(guard.first_use(&Envelope::new(f).unwrap(), now), Ok(()));
    // Too old, or dated too far ahead.
    assert_eq!(
        guard.first_use(&e, e.created_at() + 300_001),
        Err(Replayed::Stale)
    );
    assert_eq!(
        guard.first_use(&e, e.created_at() - 5_001),
        Err(Replayed::Future)
    );
}

fn logged(i: u8) -> NewLogEntry {
    let mut f = fields();
    f.message_id = MessageId::parse(&format!("req-{i}")).unwrap();
    let req = requester_key().sign_request(Envelope::new(f).unwrap(), BODY);
    let resp = provider_key().sign_response(&req, ANSWER);
    NewLogEntry {
        at: 1_796_688_000_000 + i64::from(i),
        direction: if i.is_multiple_of(2) {
            Direction::Out
        } else {
            Direction::In
        },
        envelope: req.envelope.clone(),
        request_body_digest: req.body_digest,
        request_seal: req.seal.to_string(),
        response_body_digest: Some(resp.body_digest),
        response_seal: Some(resp.seal.to_string()),
        outcome: "ok".into(),
    }
}

fn chain(n: u8) -> Vec<LogEntry> {
    let mut tail = Tail::GENESIS;
    (1..=n)
        .map(|i| {
            let e = append(tail, logged(i));
            tail = e.tail();
            e
        })
        .collect()
}

#[test]
fn an_untouched_chain_verifies() {
    let c = chain(5);
    let tail = verify_chain(Tail::GENESIS, &c).unwrap();
    assert_eq!(tail, c[4].tail());
    assert_eq!(c[0].prev_hash, [0; 32]);
    assert_eq!(c[3].prev_hash, c[2].hash);
    // Verifying from a later tail (a checkpoint) checks only what follows.
    assert_eq!(verify_chain(c[1].tail(), &c[2..]).unwrap(), tail);
}

#[test]
fn every_change_to_a_chained_entry_is_found_at_that_entry() {
    let edits: Vec<(&str, Edit<LogEntry>)> = vec![
        ("at", |e| e.entry.at += 1),
        ("direction", |e| e.entry.direction = Direction::In),
        ("envelope", |e| {
            let mut f = e.entry.envelope.fields().clone();
            f.purpose = Purpose::parse("其他用途").unwrap();
            e.entry.envelope = Envelope::new(f).unwrap();
        }),
        ("request digest", |e| e.entry.request_body_digest[0] ^= 1),
        ("request seal", |e| e.entry.request_seal.push('A')),
        ("response digest", |e| e.entry.response_body_digest = None),
        ("response seal", |e| e.entry.response_seal = None),
        ("outcome", |e| e.entry.outcome = "refused".into()),
        ("hash", |e| e.hash[31] ^= 1),
        ("prev hash", |e| e.prev_hash[0] ^= 1),
    ];
    for (what, edit) in edits {
        let mut c = chain(5);
        // Entry 2 is an Out entry (even), so changing the direction changes it.
        edit(&mut c[1]);
        let brk = verify_chain(Tail::GENESIS, &c).unwrap_err();
        assert_eq!(brk.seq, 2, "{what}: {brk}");
        assert_eq!(brk.kind, BreakKind::Altered, "{what}");
    }
}

#[test]
fn removed_reordered_and_rewritten_entries_break_the_chain() {
    let mut c = chain(5);
    c.remove(2);
    let brk = verify_chain(Tail::GENESIS, &c).unwrap_err();
    assert_eq!((brk.seq, brk.kind), (4, BreakKind::Gap));

    let mut c = chain(5);
    c.swap(1, 2);
    assert_eq!(verify_chain(Tail::GENESIS, &c).unwrap_err().seq, 3);

    // Rehashing one entry after an edit does not help: the next entry points elsewhere.
    let mut c = chain(5);
    c[2].entry.outcome = "refused".into();
    c[2].hash = LogEntry::compute_hash(3, &c[2].entry, &c[2].prev_hash);
    let brk = verify_chain(Tail::GENESIS, &c).unwrap_err();
    assert_eq!((brk.seq, brk.kind), (4, BreakKind::Link));
    assert!(brk.to_string().contains("entry 4"));

    let mut v = ChainVerifier::new(Tail::GENESIS);
    for e in &chain(3) {
        v.push(e).unwrap();
    }
    assert_eq!(v.checked(), 3);
}

#[test]
fn a_checkpoint_is_sealed_and_every_field_is_bound() {
    let b = bundle();
    let c = chain(4);
    let cp = Checkpoint {
        tail: c[2].tail(),
        at: 1_830_000_000_000,
    };
    let seal = requester_key().sign_checkpoint(&cp);
    assert_eq!(b.verify_checkpoint(&cp, &seal, &market()), Ok(()));
    // Verification resumes from it.
    assert_eq!(verify_chain(cp.tail, &c[3..]), Ok(c[3].tail()));
    let edits: Vec<(&str, Edit<Checkpoint>)> = vec![
        ("seq", |cp| cp.tail.seq += 1),
        ("hash", |cp| cp.tail.hash[0] ^= 1),
        ("at", |cp| cp.at -= 1),
    ];
    for (what, edit) in edits {
        let mut bad = cp;
        edit(&mut bad);
        assert_eq!(
            b.verify_checkpoint(&bad, &seal, &market()),
            Err(VerifyError::BadSignature),
            "{what}"
        );
    }
    // Sealed by another department's key than the log's owner.
    assert_eq!(
        b.verify_checkpoint(&cp, &seal, &police()),
        Err(VerifyError::WrongSigner)
    );
}

#[test]
fn the_seals_of_a_logged_exchange_can_be_rechecked_from_the_log_alone() {
    let b = bundle();
    let e = logged(2);
    assert_eq!(e.check_seals(&b), Ok(()));
    let edits: Vec<(&str, Edit<NewLogEntry>, VerifyError)> = vec![
        (
            "request body digest",
            |e| e.request_body_digest[0] ^= 1,
            VerifyError::BadSignature,
        ),
        (
            "response body digest",
            |e| e.response_body_digest = Some([0; 32]),
            VerifyError::BadSignature,
        ),
        (
            "no response seal",
            |e| e.response_seal = None,
            VerifyError::Malformed,
        ),
        (
            "response seal of another entry",
            |e| e.response_seal = logged(4).response_seal,
            VerifyError::BadSignature,
        ),
        (
            "envelope",
            |e| e.envelope = logged(3).envelope,
            VerifyError::BadSignature,
        ),
    ];
    for (what, edit, want) in edits {
        let mut bad = logged(2);
        edit(&mut bad);
        assert_eq!(bad.check_seals(&b), Err(want), "{what}");
    }
    // Only successful exchanges are re-checked; a refusal logs the seal it refused.
    let mut refused = logged(2);
    refused.request_seal = "sm2-sm3:unknown:AAAA".into();
    assert_eq!(refused.check_seals(&b), Err(VerifyError::UnknownKey));
    refused.outcome = "refused:bad-signature".into();
    assert_eq!(refused.check_seals(&b), Ok(()));
    assert_eq!(
        logged(2).check_seals(&TrustBundle::default()),
        Err(VerifyError::UnknownKey)
    );
}
