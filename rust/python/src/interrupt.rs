//! Ctrl-C during long computations. A kernel runs with the GIL released, so
//! Python cannot run its SIGINT handler until the kernel returns; the core
//! instead polls a check between blocks of work (`ferrax_core::interrupt`),
//! and this module's check runs Python's pending signal handlers (on the
//! main thread, where Python delivers signals). A handler that raises
//! (KeyboardInterrupt) stops the computation, and its exception is what the
//! op raises.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::thread::ThreadId;

use ferrax_core::interrupt::{set_check, Scope};
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;

use crate::errors::guard;

/// The thread Python delivers signals to.
static MAIN: OnceLock<ThreadId> = OnceLock::new();

thread_local! {
    /// The exception a signal handler raised during a computation on this thread.
    static RAISED: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// Register the check (at import, which normally runs on the main thread).
pub fn install(py: Python<'_>) -> PyResult<()> {
    let threading = py.import("threading")?;
    let main = threading.call_method0("main_thread")?;
    if main.is(&threading.call_method0("current_thread")?) {
        let _ = MAIN.set(std::thread::current().id());
    }
    set_check(check);
    Ok(())
}

fn check() -> bool {
    if MAIN.get() != Some(&std::thread::current().id()) {
        return false;
    }
    Python::attach(|py| match py.check_signals() {
        Ok(()) => false,
        Err(e) => {
            RAISED.with(|r| *r.borrow_mut() = Some(e));
            true
        }
    })
}

/// The exception that interrupted this thread's computation.
pub fn raised() -> PyErr {
    RAISED
        .with(|r| r.borrow_mut().take())
        .unwrap_or_else(|| PyKeyboardInterrupt::new_err(()))
}

/// Run core code with the GIL released, interruptible by Ctrl-C.
pub fn detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> ferrax_core::Result<T> + Send,
) -> PyResult<T> {
    py.detach(|| {
        let _scope = Scope::enter();
        guard(f)
    })
}
