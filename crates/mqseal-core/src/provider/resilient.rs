//! The resilience layer around every key provider: retries with backoff, a circuit
//! breaker, and call statistics.
//!
//! A [`crate::Cipher`] wraps each of its providers in a [`Resilient`]. Transient errors
//! (`ProviderUnavailable`, `ProviderThrottled`, `ProviderTimeout`) are retried with
//! exponential backoff and full jitter: before attempt *n* + 1 the caller sleeps a random
//! time between zero and `min(max_backoff, initial_backoff * 2^(n-1))`, as long as the
//! sleep ends before the call's deadline. Permanent errors are returned at once.
//!
//! The breaker counts consecutive calls that failed transiently after their retries.
//! At `breaker_threshold` it opens: calls fail at once with `ProviderUnavailable`, naming
//! when the next call will be let through, until `breaker_open` has passed. Then one call
//! is let through; its success closes the breaker, its failure opens it again. A
//! permanent error (access denied, key disabled) shows that the provider answers, so it
//! resets the count.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::KeyProvider;
use crate::counters::Counters;
use crate::dek::{DataKey, WrappedKey};
use crate::error::{Error, ErrorCode, Result};

/// Retry, circuit-breaker and negative-cache settings, applied to every provider of a
/// cipher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResilienceConfig {
    /// Attempts per provider call, the first one included; 1 disables retries.
    pub max_attempts: u32,
    /// Upper bound of the random backoff before the second attempt.
    pub initial_backoff: Duration,
    /// Upper bound of any backoff.
    pub max_backoff: Duration,
    /// Time one provider call may take with its retries; no retry starts a sleep that
    /// would end after it. An attempt already running is not interrupted: providers
    /// bound their own attempts (the AWS KMS provider uses this value as its timeout).
    pub deadline: Duration,
    /// Consecutive transiently failed calls that open the breaker; 0 disables it.
    pub breaker_threshold: u32,
    /// Time an open breaker rejects calls before it lets one through.
    pub breaker_open: Duration,
    /// Time a wrapped key whose unwrap gave unusable key material (a wrong length, a
    /// failed key commitment, a failed unwrap check) is answered with the same error
    /// without asking the provider again; zero disables this negative cache.
    pub negative_ttl: Duration,
}

/// Default attempts per provider call.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Largest accepted `max_attempts`.
pub const MAX_ATTEMPTS: u32 = 100;

impl Default for ResilienceConfig {
    fn default() -> Self {
        ResilienceConfig {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(1000),
            deadline: Duration::from_millis(5000),
            breaker_threshold: 5,
            breaker_open: Duration::from_secs(10),
            negative_ttl: Duration::from_secs(60),
        }
    }
}

impl ResilienceConfig {
    /// Checks every setting.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_ATTEMPTS).contains(&self.max_attempts) {
            return Err(Error::config(format!(
                "retry.max_attempts = {} is outside 1..={MAX_ATTEMPTS}",
                self.max_attempts
            )));
        }
        if self.initial_backoff > self.max_backoff {
            return Err(Error::config(format!(
                "retry.initial_backoff_ms = {} exceeds retry.max_backoff_ms = {}; lower it or raise the maximum",
                self.initial_backoff.as_millis(),
                self.max_backoff.as_millis()
            )));
        }
        if self.deadline.is_zero() {
            return Err(Error::config(
                "retry.deadline_ms is 0; give each provider call at least 1 ms",
            ));
        }
        if self.breaker_threshold > 0 && self.breaker_open.is_zero() {
            return Err(Error::config(
                "breaker.open_seconds is 0 while the breaker is on; set it to 1 or more, or set breaker.failure_threshold = 0",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
struct BreakerState {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    trial_in_flight: bool,
}

/// A provider wrapped with retries, a circuit breaker and call statistics.
pub(crate) struct Resilient {
    inner: Arc<dyn KeyProvider>,
    config: ResilienceConfig,
    breaker: Mutex<BreakerState>,
    counters: Arc<Counters>,
}

impl fmt::Debug for Resilient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resilient")
            .field("kind", &self.inner.kind())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Decision of the circuit breaker about one call.
enum Admission {
    /// The breaker is closed.
    Normal,
    /// The breaker was open and this call is the one let through.
    Trial,
}

impl Resilient {
    pub(crate) fn new(
        inner: Arc<dyn KeyProvider>,
        config: ResilienceConfig,
        counters: Arc<Counters>,
    ) -> Resilient {
        Resilient {
            inner,
            config,
            breaker: Mutex::new(BreakerState::default()),
            counters,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, BreakerState> {
        // The state is a few plain fields that no panic can leave half-written.
        self.breaker.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn admit(&self, operation: &str) -> Result<Admission> {
        if self.config.breaker_threshold == 0 {
            return Ok(Admission::Normal);
        }
        let mut state = self.state();
        let Some(until) = state.open_until else {
            return Ok(Admission::Normal);
        };
        let now = Instant::now();
        if now >= until && !state.trial_in_flight {
            state.trial_in_flight = true;
            return Ok(Admission::Trial);
        }
        Counters::add(&self.counters.breaker_rejections);
        let wait = until.saturating_duration_since(now);
        Err(Error::new(
            ErrorCode::ProviderUnavailable,
            format!(
                "{operation} was not sent to key provider {}: its circuit breaker is open after {} consecutive failed calls; \
                 the next call is let through in {:.1} s (breaker.open_seconds = {})",
                self.inner.kind(),
                state.consecutive_failures,
                wait.as_secs_f64(),
                self.config.breaker_open.as_secs()
            ),
        ))
    }

    /// Records the end of a call: `transient_failure` is true when it failed with a
    /// retryable error after its retries.
    fn settle(&self, admission: Admission, transient_failure: bool) {
        if self.config.breaker_threshold == 0 {
            return;
        }
        let mut state = self.state();
        if matches!(admission, Admission::Trial) {
            state.trial_in_flight = false;
        }
        if !transient_failure {
            state.consecutive_failures = 0;
            state.open_until = None;
            return;
        }
        state.consecutive_failures = state.consecutive_failures.saturating_add(1);
        let trial = matches!(admission, Admission::Trial);
        if trial || state.consecutive_failures >= self.config.breaker_threshold {
            // A late failure of a call admitted before the breaker opened extends the
            // open time but is not a new opening.
            if trial || state.open_until.is_none() {
                Counters::add(&self.counters.breaker_opens);
            }
            state.open_until = Some(Instant::now() + self.config.breaker_open);
        }
    }

    fn record_attempt(&self, elapsed: Duration, outcome: Option<&Error>) {
        let c = &self.counters;
        Counters::add(&c.provider_attempts);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        c.provider_latency_us_total
            .fetch_add(micros, Ordering::Relaxed);
        c.provider_latency_us_max
            .fetch_max(micros, Ordering::Relaxed);
        match outcome {
            None => {}
            Some(e) if e.is_retryable() => Counters::add(&c.provider_transient_failures),
            Some(_) => Counters::add(&c.provider_permanent_failures),
        }
    }

    /// Runs `call` under the retry policy and the breaker.
    fn run<T>(&self, operation: &str, call: impl Fn() -> Result<T>) -> Result<T> {
        let admission = self.admit(operation)?;
        let started = Instant::now();
        let deadline = started + self.config.deadline;
        let mut backoff_cap = self.config.initial_backoff;
        let mut attempt = 1u32;
        loop {
            let attempt_started = Instant::now();
            let result = call();
            self.record_attempt(attempt_started.elapsed(), result.as_ref().err());
            let error = match result {
                Ok(value) => {
                    self.settle(admission, false);
                    return Ok(value);
                }
                Err(e) if !e.is_retryable() => {
                    self.settle(admission, false);
                    return Err(e);
                }
                Err(e) => e,
            };
            let sleep = full_jitter(backoff_cap);
            let out_of_attempts = attempt >= self.config.max_attempts;
            if out_of_attempts || Instant::now() + sleep >= deadline {
                self.settle(admission, true);
                return Err(gave_up(error, attempt, started.elapsed(), out_of_attempts));
            }
            Counters::add(&self.counters.provider_retries);
            std::thread::sleep(sleep);
            attempt += 1;
            backoff_cap = backoff_cap.saturating_mul(2).min(self.config.max_backoff);
        }
    }
}

/// Returns a random duration between zero and `cap`.
fn full_jitter(cap: Duration) -> Duration {
    let micros = u64::try_from(cap.as_micros()).unwrap_or(u64::MAX);
    if micros == 0 {
        return Duration::ZERO;
    }
    let mut bytes = [0u8; 8];
    // Without the OS generator the full cap is a safe, if less spread, choice.
    if getrandom::fill(&mut bytes).is_err() {
        return cap;
    }
    Duration::from_micros(u64::from_le_bytes(bytes) % (micros + 1))
}

fn gave_up(error: Error, attempts: u32, elapsed: Duration, out_of_attempts: bool) -> Error {
    if attempts == 1 && out_of_attempts {
        return error;
    }
    let limit = if out_of_attempts {
        "retry.max_attempts"
    } else {
        "retry.deadline_ms"
    };
    Error::new(
        error.code(),
        format!(
            "{} (gave up after {attempts} attempts in {} ms, at {limit})",
            error.message(),
            elapsed.as_millis()
        ),
    )
}

impl KeyProvider for Resilient {
    fn kind(&self) -> &str {
        self.inner.kind()
    }

    fn recognizes(&self, key_id: &str) -> bool {
        self.inner.recognizes(key_id)
    }

    fn wrap(&self, key_id: &str, dek: &DataKey) -> Result<WrappedKey> {
        self.run("wrap", || self.inner.wrap(key_id, dek))
    }

    fn unwrap(&self, wrapped: &WrappedKey) -> Result<DataKey> {
        self.run("unwrap", || self.inner.unwrap(wrapped))
    }

    fn generate_data_key(&self, key_id: &str) -> Result<(DataKey, WrappedKey)> {
        self.run("generate data key", || self.inner.generate_data_key(key_id))
    }

    fn primary_version(&self, key_id: &str) -> Result<Option<u32>> {
        self.run("primary version lookup", || {
            self.inner.primary_version(key_id)
        })
    }

    fn current_primary(&self, key_id: &str) -> Result<Option<(String, u32)>> {
        self.run("primary key lookup", || self.inner.current_primary(key_id))
    }

    fn refresh(&self) -> Result<()> {
        self.inner.refresh()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::atomic::AtomicU32;

    /// A provider that answers unwrap calls from a script of results.
    struct Scripted {
        script: Mutex<VecDeque<std::result::Result<(), ErrorCode>>>,
        calls: AtomicU32,
    }

    impl Scripted {
        fn new(script: &[std::result::Result<(), ErrorCode>]) -> Arc<Scripted> {
            Arc::new(Scripted {
                script: Mutex::new(script.iter().copied().collect()),
                calls: AtomicU32::new(0),
            })
        }
        fn calls(&self) -> u32 {
            self.calls.load(Ordering::SeqCst)
        }
    }

    impl KeyProvider for Scripted {
        fn kind(&self) -> &str {
            "scripted"
        }
        fn recognizes(&self, _key_id: &str) -> bool {
            true
        }
        fn wrap(&self, _key_id: &str, _dek: &DataKey) -> Result<WrappedKey> {
            Err(Error::internal("not used"))
        }
        fn unwrap(&self, _wrapped: &WrappedKey) -> Result<DataKey> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let next = self
                .script
                .lock()
                .expect("script lock")
                .pop_front()
                .unwrap_or(Ok(()));
            match next {
                Ok(()) => DataKey::from_slice(&[7; 32]),
                Err(code) => Err(Error::new(code, "scripted failure")),
            }
        }
    }

    fn wrapped() -> WrappedKey {
        WrappedKey {
            key_id: "k".into(),
            key_version: 1,
            ciphertext: vec![1, 2, 3],
        }
    }

    fn fast(max_attempts: u32, threshold: u32) -> ResilienceConfig {
        ResilienceConfig {
            max_attempts,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
            deadline: Duration::from_secs(30),
            breaker_threshold: threshold,
            breaker_open: Duration::from_secs(3600),
            negative_ttl: Duration::from_secs(60),
        }
    }

    fn wrap_scripted(p: &Arc<Scripted>, config: ResilienceConfig) -> (Resilient, Arc<Counters>) {
        let counters = Arc::new(Counters::default());
        let provider: Arc<dyn KeyProvider> = p.clone();
        (Resilient::new(provider, config, counters.clone()), counters)
    }

    use ErrorCode::{KeyDisabled, ProviderThrottled, ProviderTimeout, ProviderUnavailable};

    #[test]
    fn transient_errors_are_retried() {
        let p = Scripted::new(&[Err(ProviderUnavailable), Err(ProviderThrottled)]);
        let (r, counters) = wrap_scripted(&p, fast(3, 0));
        assert!(r.unwrap(&wrapped()).is_ok());
        assert_eq!(p.calls(), 3);
        let s = counters.snapshot();
        assert_eq!(s.provider_attempts, 3);
        assert_eq!(s.provider_retries, 2);
        assert_eq!(s.provider_transient_failures, 2);
        assert_eq!(s.provider_permanent_failures, 0);
        assert!(s.provider_latency_us_max <= s.provider_latency_us_total);
    }

    #[test]
    fn permanent_errors_are_not_retried() {
        let p = Scripted::new(&[Err(KeyDisabled)]);
        let (r, counters) = wrap_scripted(&p, fast(5, 0));
        let e = r.unwrap(&wrapped()).expect_err("disabled");
        assert_eq!(e.code(), KeyDisabled);
        assert_eq!(p.calls(), 1);
        assert_eq!(counters.snapshot().provider_permanent_failures, 1);
        assert_eq!(counters.snapshot().provider_retries, 0);
    }

    #[test]
    fn attempts_are_bounded() {
        let p = Scripted::new(&[Err(ProviderTimeout); 10]);
        let (r, _) = wrap_scripted(&p, fast(4, 0));
        let e = r.unwrap(&wrapped()).expect_err("always times out");
        assert_eq!(e.code(), ProviderTimeout);
        assert_eq!(p.calls(), 4);
        assert!(e.message().contains("4 attempts"), "{}", e.message());
        assert!(
            e.message().contains("retry.max_attempts"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn deadline_stops_retries() {
        let p = Scripted::new(&[Err(ProviderUnavailable); 10]);
        let config = ResilienceConfig {
            initial_backoff: Duration::from_secs(3600),
            max_backoff: Duration::from_secs(3600),
            deadline: Duration::from_millis(1),
            ..fast(10, 0)
        };
        let (r, _) = wrap_scripted(&p, config);
        // Every backoff (up to an hour) is longer than the deadline, unless the random
        // draw is below 1 ms; at most a few attempts can run.
        let e = r.unwrap(&wrapped()).expect_err("unavailable");
        assert_eq!(e.code(), ProviderUnavailable);
        assert!(p.calls() < 10, "calls: {}", p.calls());
        assert!(e.message().contains("retry.deadline_ms"), "{}", e.message());
    }

    #[test]
    fn breaker_opens_and_fails_fast() {
        let p = Scripted::new(&[Err(ProviderUnavailable); 4]);
        let (r, counters) = wrap_scripted(&p, fast(1, 2));
        for _ in 0..2 {
            let e = r.unwrap(&wrapped()).expect_err("unavailable");
            assert_eq!(e.message(), "scripted failure");
        }
        let e = r.unwrap(&wrapped()).expect_err("breaker open");
        assert_eq!(e.code(), ProviderUnavailable);
        assert!(e.is_retryable());
        assert!(
            e.message().contains("circuit breaker is open"),
            "{}",
            e.message()
        );
        assert!(e.message().contains("let through in"), "{}", e.message());
        assert_eq!(p.calls(), 2);
        let s = counters.snapshot();
        assert_eq!(s.breaker_opens, 1);
        assert_eq!(s.breaker_rejections, 1);
    }

    #[test]
    fn breaker_trial_closes_or_reopens() {
        let p = Scripted::new(&[Err(ProviderUnavailable), Err(ProviderUnavailable)]);
        let config = ResilienceConfig {
            breaker_open: Duration::from_millis(20),
            ..fast(1, 1)
        };
        let (r, counters) = wrap_scripted(&p, config);
        assert!(r.unwrap(&wrapped()).is_err());
        assert!(r.unwrap(&wrapped()).is_err(), "open");
        std::thread::sleep(Duration::from_millis(30));
        // The trial call fails, so the breaker opens again.
        let trial = r.unwrap(&wrapped()).expect_err("trial fails");
        assert_eq!(trial.message(), "scripted failure");
        assert!(r.unwrap(&wrapped()).is_err(), "open again");
        assert_eq!(p.calls(), 2);
        std::thread::sleep(Duration::from_millis(30));
        assert!(r.unwrap(&wrapped()).is_ok(), "trial succeeds");
        assert!(r.unwrap(&wrapped()).is_ok(), "closed");
        assert_eq!(p.calls(), 4);
        assert_eq!(counters.snapshot().breaker_opens, 2);
    }

    #[test]
    fn permanent_errors_reset_the_breaker() {
        let p = Scripted::new(&[
            Err(ProviderUnavailable),
            Err(KeyDisabled),
            Err(ProviderUnavailable),
        ]);
        let (r, _) = wrap_scripted(&p, fast(1, 2));
        for _ in 0..3 {
            assert!(r.unwrap(&wrapped()).is_err());
        }
        assert!(r.unwrap(&wrapped()).is_ok(), "the breaker never opened");
        assert_eq!(p.calls(), 4);
    }

    #[test]
    fn validate_rejects_bad_settings() {
        assert!(ResilienceConfig::default().validate().is_ok());
        let zero = ResilienceConfig {
            max_attempts: 0,
            ..ResilienceConfig::default()
        };
        assert!(zero.validate().is_err());
        let inverted = ResilienceConfig {
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(1),
            ..ResilienceConfig::default()
        };
        assert!(inverted.validate().is_err());
        let no_deadline = ResilienceConfig {
            deadline: Duration::ZERO,
            ..ResilienceConfig::default()
        };
        assert!(no_deadline.validate().is_err());
    }
}
