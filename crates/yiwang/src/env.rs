//! What every subcommand reads from its surroundings: the wall clock and the message language.

use yiwang_i18n::Lang;

/// Now, in epoch milliseconds (the CLI is the edge where the real clock enters).
pub fn now_ms() -> i64 {
    yiwang_app::Clock::now_ms(&yiwang_app::SystemClock)
}

/// Message language from `YIWANG_LANG` (zh-CN by default).
pub fn lang() -> Lang {
    std::env::var("YIWANG_LANG")
        .ok()
        .and_then(|l| Lang::from_tag(&l))
        .unwrap_or_default()
}
