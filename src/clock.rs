//! Time as text, without a date crate: UTC RFC 3339 with seconds, the one format used in
//! packages (`integrity.created_at`) and signed statements (`signed-at`).

/// Formats seconds since the Unix epoch as the `signed-at` value, `YYYY-MM-DDTHH:MM:SSZ`.
///
/// Times after 9999-12-31T23:59:59Z are clamped to it (the format has four year digits).
pub fn rfc3339_utc(unix_secs: u64) -> String {
    const MAX: u64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let t = unix_secs.min(MAX);
    let days = t / 86_400;
    let rem = t % 86_400;
    // Howard Hinnant's civil_from_days, for days >= 0.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
