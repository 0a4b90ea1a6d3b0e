//! The canonical byte layout of everything that is signed or chained: a domain tag, then each
//! field as a 4-byte big-endian length and its bytes, in a fixed order. Length prefixes make the
//! layout unambiguous (no field can spill into the next), and it does not depend on any JSON
//! library's ordering or escaping, so another implementation can reproduce it from this comment.

pub(crate) struct Canon(Vec<u8>);

impl Canon {
    /// Starts with the domain tag (e.g. `yiwang-exchange/envelope/v1`), so bytes signed for one
    /// purpose can never be replayed as another.
    pub(crate) fn new(tag: &str) -> Self {
        let mut c = Self(Vec::with_capacity(256));
        c.bytes(tag.as_bytes());
        c
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) -> &mut Self {
        // Fields are short (ids, digests, texts of at most a few hundred bytes); a field longer
        // than u32::MAX cannot be built by the checked types, so saturating is unreachable.
        let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(b);
        self
    }

    pub(crate) fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    pub(crate) fn i64(&mut self, v: i64) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    /// An optional field: absent is a zero marker, present is a one marker and the value, so
    /// "absent" and "empty" differ.
    pub(crate) fn opt_str(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            None => self.bytes(&[0]),
            Some(s) => self.bytes(&[1]).str(s),
        }
    }

    pub(crate) fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}
