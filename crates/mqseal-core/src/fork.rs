//! Fork detection: a child process must never reuse its parent's data keys, because
//! both would then continue the same nonce sequence under one key.

use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

static GENERATION: AtomicU64 = AtomicU64::new(0);
static INSTALL: Once = Once::new();

extern "C" fn after_fork_in_child() {
    // Async-signal-safe: one atomic add, no allocation, no lock.
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Installs the `pthread_atfork` child handler once per process.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        #[cfg(unix)]
        // SAFETY: the handler is a plain `extern "C"` function that only touches an atomic;
        // the prepare and parent handlers are absent.
        unsafe {
            libc::pthread_atfork(None, None, Some(after_fork_in_child));
        }
    });
}

/// Returns the number of forks this process descends from since mqseal was loaded.
/// A data key created under one generation is never used under another.
#[inline]
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}
