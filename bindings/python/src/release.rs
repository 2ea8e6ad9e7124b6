//! Releasing the GIL around long core calls, and keeping `os.fork()` away from them.
//!
//! Calls on inputs up to [`RELEASE_THRESHOLD`] bytes keep the GIL: releasing and taking
//! it back costs more than the work. Longer calls release it, so other Python threads run
//! meanwhile.
//!
//! A forked child has one thread. If another thread of the parent held one of the core's
//! locks (the producer's key slot or its refresh lock) at the moment of the fork, the
//! child would block forever on its first encryption. `os.fork()` needs the GIL, so it
//! can only happen while the GIL is released, and the only calls that run core code
//! without the GIL are the ones in [`run`]. The before-fork hook therefore stops new
//! released calls and waits until the running ones finish; calls made meanwhile keep the
//! GIL. Both counters are atomics, so the hooks take no lock a fork could leave held.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use pyo3::prelude::*;

use crate::log;

/// Largest input, in bytes, that is processed with the GIL held.
pub(crate) const RELEASE_THRESHOLD: usize = 4 * 1024;

/// Core calls running with the GIL released.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// Forks between their before-fork hook and their after-fork hook in this process.
static PENDING_FORKS: AtomicUsize = AtomicUsize::new(0);
/// Whether released calls are counted and waited for; off only in diagnostics.
static GATE_ENABLED: AtomicBool = AtomicBool::new(true);

/// How long a before-fork wait may take before it is logged as a warning.
const SLOW_FORK_WAIT: Duration = Duration::from_secs(1);

/// Decrements [`ACTIVE`] when a released call ends, panics included.
struct Leave;

impl Drop for Leave {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// GIL handling of a core call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gil {
    /// Keep it: short work on a cipher without Python key providers.
    Keep,
    /// Release it unless a fork is pending: long work.
    Release,
    /// Always release it, after waiting for a pending fork to finish. The cipher has a
    /// Python key provider, whose callbacks need the GIL while the core may hold a lock,
    /// so a thread that waits for that lock must not hold the GIL.
    ReleaseAlways,
}

/// Runs `f`, keeping or releasing the GIL as `gil` requests.
///
/// The check of [`PENDING_FORKS`] and the increment of [`ACTIVE`] both happen with the GIL
/// held, as does the increment in [`before_fork`]. So either the fork counts this call and
/// waits for it, or this call finds the fork pending and keeps the GIL ([`Gil::Release`])
/// or waits for the fork without the GIL ([`Gil::ReleaseAlways`]).
///
/// NOTE: a key provider callback that itself calls a cipher with a Python key provider
/// while a fork is pending blocks that fork forever, because the fork waits for the
/// outer call and the inner call waits for the fork.
pub(crate) fn run<T, F>(py: Python<'_>, gil: Gil, f: F) -> T
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    if gil == Gil::ReleaseAlways {
        while GATE_ENABLED.load(Ordering::SeqCst) && PENDING_FORKS.load(Ordering::SeqCst) > 0 {
            py.detach(wait_for_forks);
        }
    }
    if gil == Gil::Keep || PENDING_FORKS.load(Ordering::SeqCst) > 0 {
        return f();
    }
    if !GATE_ENABLED.load(Ordering::SeqCst) {
        return py.detach(f);
    }
    ACTIVE.fetch_add(1, Ordering::SeqCst);
    py.detach(move || {
        let _leave = Leave;
        f()
    })
}

/// Registered with `os.register_at_fork(before=...)`: blocks new released calls and waits,
/// with the GIL released, until the running ones have returned from the core.
#[pyfunction]
pub(crate) fn before_fork(py: Python<'_>) {
    PENDING_FORKS.fetch_add(1, Ordering::SeqCst);
    if ACTIVE.load(Ordering::SeqCst) == 0 {
        return;
    }
    let waited = py.detach(wait_until_idle);
    if waited >= SLOW_FORK_WAIT {
        log::warning(py, || {
            format!(
                "os.fork() waited {:.1} s for mqseal calls on other threads to finish",
                waited.as_secs_f64()
            )
        });
    }
}

/// Waits, without the GIL, until no fork is pending in this process.
fn wait_for_forks() {
    let mut pause = Duration::from_micros(10);
    while PENDING_FORKS.load(Ordering::SeqCst) > 0 {
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(1));
    }
}

fn wait_until_idle() -> Duration {
    let start = Instant::now();
    let mut pause = Duration::from_micros(10);
    while ACTIVE.load(Ordering::SeqCst) != 0 {
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(1));
    }
    start.elapsed()
}

/// Registered with `os.register_at_fork(after_in_parent=...)`; also runs when the fork
/// failed.
#[pyfunction]
pub(crate) fn after_fork_in_parent() {
    let _ = PENDING_FORKS.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
}

/// Registered with `os.register_at_fork(after_in_child=...)`. The child runs only the
/// forking thread, so counts inherited from the parent's other threads are void.
#[pyfunction]
pub(crate) fn after_fork_in_child() {
    PENDING_FORKS.store(0, Ordering::SeqCst);
    ACTIVE.store(0, Ordering::SeqCst);
}

/// FOR DIAGNOSTICS ONLY: turns the fork gate off (`False`) or back on (`True`), to show
/// what it prevents. With the gate off, a child forked while another thread is inside a
/// released call can block forever.
#[pyfunction]
#[pyo3(name = "_debug_fork_gate")]
pub(crate) fn debug_fork_gate(enabled: bool) {
    GATE_ENABLED.store(enabled, Ordering::SeqCst);
}
