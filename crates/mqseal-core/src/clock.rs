//! A cheap monotonic clock for key expiry checks on the per-message path.

/// Returns monotonic milliseconds. On Linux it reads `CLOCK_MONOTONIC_COARSE`, which
/// costs a few nanoseconds and ticks every few milliseconds; that resolution is ample
/// for limits measured in seconds.
#[cfg(target_os = "linux")]
pub(crate) fn now_millis() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC_COARSE always exists on
    // Linux, so the call cannot fail.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts);
    }
    (ts.tv_sec as u64) * 1000 + (ts.tv_nsec as u64) / 1_000_000
}

/// Returns monotonic milliseconds since the first call in this process.
#[cfg(not(target_os = "linux"))]
pub(crate) fn now_millis() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Converts a duration to milliseconds, saturating.
pub(crate) fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
