//! Region choices of an address field's picker.

use yiwang_domain::{RegionCode, RegionLevel};

/// One region offered by an address picker; `depth` 0 is the level just below the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionOption {
    pub code: String,
    pub name: String,
    pub depth: u8,
}

/// The levels a picker under `root` should list: two levels below a province or city (for
/// example the districts of 天津市), one level below a county (its townships) or a township.
pub fn picker_level(root: &RegionCode) -> RegionLevel {
    use RegionLevel::*;
    match root.level() {
        Province => County,
        City => County,
        County => Township,
        Township | Village => Village,
    }
}

/// Depth of `code` below `root` for [`RegionOption::depth`] (0 = a direct child).
pub fn region_depth(root: &RegionCode, code: &RegionCode) -> u8 {
    let d = code.level().number() - root.level().number() - 1;
    u8::try_from(d.max(0)).unwrap_or(0)
}
