//! The official working calendar (工作日历) and time limits (办理时限) on it.
//!
//! Pure: the list of holidays and adjusted working days is passed in, and "today" is passed in.
//!
//! Conventions (the same everywhere a limit is computed):
//! - A day is a **working day** when it is an adjusted working day (调休上班, e.g. a Saturday),
//!   or it is Monday–Friday and not an official holiday.
//! - **Acceptance day is day 0.** A limit of *n* working days ends on the *n*-th working day after
//!   the acceptance day (行政许可法 第八十二条: limits count working days, holidays excluded); a
//!   limit of *n* natural days ends *n* calendar days after it, moved forward to the next working
//!   day when that day is not a working day (民法典 第二百零三条).
//! - A **pause** `from → to` (补正, 听证, 检验检测, 专家评审…) starts at the end of day `from`
//!   and ends at the end of day `to` (the day the applicant hands in the fix): the days in
//!   `(from, to]` are paused. When the pause does not count toward the limit those days are
//!   skipped, so the due date moves later by the paused working (or natural) days.
//! - For years with no loaded data the calendar falls back to "Monday–Friday are working days";
//!   callers check [`Calendar::covers`] / [`Calendar::covered_years`] to warn about it.

use crate::catalog::TimeLimit;
use crate::enums::TimeUnit;
use crate::error::ErrorCode;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Offset of China Standard Time from UTC (no daylight saving).
pub const CHINA_OFFSET_SECS: i64 = 8 * 3600;

/// A date of the proleptic Gregorian calendar, stored as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate(i32);

impl CivilDate {
    pub const MIN_YEAR: i32 = 1900;
    pub const MAX_YEAR: i32 = 9999;

    /// `None` when the date does not exist or the year is outside 1900–9999.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Self> {
        if !(Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year)
            || !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
        {
            return None;
        }
        // Howard Hinnant's days_from_civil.
        let y = i64::from(if month <= 2 { year - 1 } else { year });
        let m = i64::from(month);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        i32::try_from(era * 146_097 + doe - 719_468).ok().map(Self)
    }

    /// Parses `YYYY-MM-DD` exactly (ten characters, zero-padded).
    pub fn parse(s: &str) -> Result<Self, ErrorCode> {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = b.get(r)?;
            if !part.iter().all(u8::is_ascii_digit) {
                return None;
            }
            part.iter()
                .try_fold(0u32, |acc, d| Some(acc * 10 + u32::from(d - b'0')))
        };
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(ErrorCode::InvalidInput);
        }
        let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) else {
            return Err(ErrorCode::InvalidInput);
        };
        let year = i32::try_from(y).map_err(|_| ErrorCode::InvalidInput)?;
        Self::from_ymd(year, m, d).ok_or(ErrorCode::InvalidInput)
    }

    pub fn from_days_since_epoch(days: i32) -> Self {
        Self(days)
    }

    pub fn days_since_epoch(self) -> i32 {
        self.0
    }

    /// The local date at `unix_ms` for a fixed UTC offset (use [`CHINA_OFFSET_SECS`]).
    pub fn from_unix_ms(unix_ms: i64, offset_secs: i64) -> Self {
        let local_secs = unix_ms.div_euclid(1000) + offset_secs;
        let days = local_secs.div_euclid(86_400);
        Self(i32::try_from(days).unwrap_or(if days < 0 { i32::MIN } else { i32::MAX }))
    }

    /// `(year, month, day)`.
    pub fn ymd(self) -> (i32, u32, u32) {
        // Howard Hinnant's civil_from_days.
        let z = i64::from(self.0) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        // The ranges are guaranteed by the algorithm; the casts cannot truncate.
        (y as i32, m as u32, d as u32)
    }

    pub fn year(self) -> i32 {
        self.ymd().0
    }

    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday.
        (i64::from(self.0) + 3).rem_euclid(7) as u32 + 1
    }

    pub fn is_weekend(self) -> bool {
        self.weekday() >= 6
    }

    /// `self + days` (saturating at the ends of the representable range).
    pub fn add_days(self, days: i64) -> Self {
        let v = i64::from(self.0).saturating_add(days);
        Self(i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX }))
    }

    pub fn succ(self) -> Self {
        self.add_days(1)
    }

    /// `other - self` in days.
    pub fn days_until(self, other: CivilDate) -> i64 {
        i64::from(other.0) - i64::from(self.0)
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for CivilDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl std::str::FromStr for CivilDate {
    type Err = ErrorCode;
    fn from_str(s: &str) -> Result<Self, ErrorCode> {
        Self::parse(s)
    }
}

impl Serialize for CivilDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CivilDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(|_| serde::de::Error::custom("expected a date YYYY-MM-DD"))
    }
}

/// What an entry of the official calendar says about a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// 法定节假日 (including the weekend days inside a holiday block).
    Holiday,
    /// 调休上班: a weekend day that is a working day.
    AdjustedWorkday,
}

impl DayKind {
    pub const ALL: &'static [DayKind] = &[DayKind::Holiday, DayKind::AdjustedWorkday];
    pub fn key(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::AdjustedWorkday => "adjusted_workday",
        }
    }
    pub fn from_key(k: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.key() == k)
    }
}

/// One entry of the official calendar, e.g. `2026-10-10, adjusted_workday, National Day`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    pub day: CivilDate,
    pub kind: DayKind,
    /// The festival, e.g. `Spring Festival`.
    pub name: String,
}

/// A stop of the clock: the days in `(from, to]` are paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub from: CivilDate,
    pub to: CivilDate,
    /// False for corrections (补正) and special procedures that by law do not count toward the
    /// limit (听证, 检验检测, 专家评审 …); such pauses move the due date later.
    pub counts_toward_limit: bool,
}

impl Pause {
    fn holds(&self, d: CivilDate) -> bool {
        !self.counts_toward_limit && self.from < d && d <= self.to
    }
}

/// Warning colour of a running case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    Normal,
    /// At most [`YELLOW_WORKING_DAYS`] working days left (the due day itself is the last one).
    Yellow,
    /// Past the due date.
    Red,
}

impl DeadlineState {
    pub fn key(self) -> &'static str {
        match self {
            DeadlineState::Normal => "normal",
            DeadlineState::Yellow => "yellow",
            DeadlineState::Red => "red",
        }
    }
}

pub const YELLOW_WORKING_DAYS: i64 = 2;

/// The official calendar: holidays and adjusted working days for the loaded years.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    overrides: BTreeMap<CivilDate, DayKind>,
    years: BTreeSet<i32>,
}

impl Calendar {
    /// Builds the calendar from entries; a later entry for the same day wins.
    pub fn new(entries: impl IntoIterator<Item = (CivilDate, DayKind)>) -> Self {
        let mut cal = Self::default();
        for (day, kind) in entries {
            cal.overrides.insert(day, kind);
            cal.years.insert(day.year());
        }
        cal
    }

    pub fn from_days<'a>(days: impl IntoIterator<Item = &'a CalendarDay>) -> Self {
        Self::new(days.into_iter().map(|d| (d.day, d.kind)))
    }

    /// Monday–Friday only: what is assumed for years without data.
    pub fn weekends_only() -> Self {
        Self::default()
    }

    /// The years for which holidays are loaded.
    pub fn covered_years(&self) -> Vec<i32> {
        self.years.iter().copied().collect()
    }

    /// True when every year from `a` to `b` (inclusive, either order) has data.
    pub fn covers(&self, a: CivilDate, b: CivilDate) -> bool {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        (lo.year()..=hi.year()).all(|y| self.years.contains(&y))
    }

    pub fn kind_of(&self, d: CivilDate) -> Option<DayKind> {
        self.overrides.get(&d).copied()
    }

    pub fn is_working_day(&self, d: CivilDate) -> bool {
        match self.overrides.get(&d) {
            Some(DayKind::AdjustedWorkday) => true,
            Some(DayKind::Holiday) => false,
            None => !d.is_weekend(),
        }
    }

    /// The first working day on or after `d`.
    pub fn working_day_on_or_after(&self, d: CivilDate) -> CivilDate {
        let mut d = d;
        // At most a few weeks of holidays in a row; the bound only guards against bad data.
        for _ in 0..366 {
            if self.is_working_day(d) {
                return d;
            }
            d = d.succ();
        }
        d
    }

    /// The `n`-th working day after `start` (`start` is day 0; `n = 0` gives `start`).
    pub fn add_working_days(&self, start: CivilDate, n: u32) -> CivilDate {
        self.count_forward(start, n, true, &[])
    }

    /// `start + n` calendar days.
    pub fn add_natural_days(&self, start: CivilDate, n: u32) -> CivilDate {
        start.add_days(i64::from(n))
    }

    /// Working days in `(a, b]`; negative (the count in `(b, a]`) when `b < a`.
    pub fn working_days_between(&self, a: CivilDate, b: CivilDate) -> i64 {
        if b < a {
            return -self.working_days_between(b, a);
        }
        let mut n = 0;
        let mut d = a.succ();
        while d <= b {
            if self.is_working_day(d) {
                n += 1;
            }
            d = d.succ();
        }
        n
    }

    /// The due date of a limit accepted on `accepted_on`, with pauses. A pause that ends
    /// before it starts is rejected.
    pub fn due_date(
        &self,
        accepted_on: CivilDate,
        limit: TimeLimit,
        pauses: &[Pause],
    ) -> Result<CivilDate, ErrorCode> {
        if pauses.iter().any(|p| p.to < p.from) {
            return Err(ErrorCode::InvalidInput);
        }
        Ok(match limit.unit {
            TimeUnit::WorkingDays => self.count_forward(accepted_on, limit.amount, true, pauses),
            TimeUnit::NaturalDays => {
                let end = self.count_forward(accepted_on, limit.amount, false, pauses);
                self.working_day_on_or_after(end)
            }
        })
    }

    /// Steps forward from `start` until `n` days count: working days only when `working`,
    /// and never a day held by a non-counting pause.
    fn count_forward(
        &self,
        start: CivilDate,
        n: u32,
        working: bool,
        pauses: &[Pause],
    ) -> CivilDate {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d = d.succ();
            if d.year() > CivilDate::MAX_YEAR {
                break;
            }
            let counts = (!working || self.is_working_day(d)) && !pauses.iter().any(|p| p.holds(d));
            if counts {
                left -= 1;
            }
        }
        d
    }

    /// Working days left after `today` up to and including `due`: 0 on the due day itself.
    pub fn working_days_left(&self, today: CivilDate, due: CivilDate) -> i64 {
        self.working_days_between(today, due)
    }

    /// Red once `today` is past `due`; yellow with at most two working days left (so on the
    /// due day, and on the two working days before it); normal otherwise.
    pub fn deadline_state(&self, today: CivilDate, due: CivilDate) -> DeadlineState {
        if today > due {
            DeadlineState::Red
        } else if self.working_days_left(today, due) <= YELLOW_WORKING_DAYS {
            DeadlineState::Yellow
        } else {
            DeadlineState::Normal
        }
    }
}
