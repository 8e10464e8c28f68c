//! Stopping long computations early (Ctrl-C).
//!
//! The core cannot see signals; whoever embeds it (the Python bindings)
//! registers a check with [`set_check`] and marks, with a [`Scope`], the
//! threads whose computations may be interrupted. Long kernels call [`poll`]
//! between blocks of work (the task runner between tasks, a large matmul
//! between tiles of its output, the backward pass between nodes). At most
//! every [`PERIOD`] a poll runs the check; once it reports an interrupt the
//! thread stays interrupted until its scope ends: work splits hand out no
//! more blocks, and every op returns [`Error::Interrupted`] instead of a
//! (partly computed) result.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How often a long computation runs the check: often enough that Ctrl-C
/// is honoured at once, rarely enough that the check costs nothing.
pub const PERIOD: Duration = Duration::from_millis(20);

static CHECK: OnceLock<fn() -> bool> = OnceLock::new();

/// Register the check: it returns true when the computation must stop. It
/// runs on the thread of the computation, inside a [`Scope`]. The first
/// registration wins.
pub fn set_check(check: fn() -> bool) {
    let _ = CHECK.set(check);
}

#[derive(Clone, Copy)]
struct State {
    /// Inside a scope: polls may run the check.
    active: bool,
    interrupted: bool,
    /// When the check last ran (or the scope began).
    last: Option<Instant>,
}

thread_local! {
    static STATE: Cell<State> = const {
        Cell::new(State { active: false, interrupted: false, last: None })
    };
}

/// While alive, polls on this thread may run the check; dropping it ends
/// the interruption (the thread is usable again) and restores the state of
/// any enclosing scope.
pub struct Scope {
    outer: State,
}

impl Scope {
    pub fn enter() -> Scope {
        let outer = STATE.with(|s| s.get());
        STATE.with(|s| {
            s.set(State {
                active: true,
                interrupted: false,
                last: Some(Instant::now()),
            })
        });
        Scope { outer }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        STATE.with(|s| s.set(self.outer));
    }
}

/// Between blocks of long work: whether to stop. Cheap (a clock read) except
/// once per [`PERIOD`], when it runs the registered check.
pub fn poll() -> bool {
    STATE.with(|s| {
        let mut st = s.get();
        if st.interrupted {
            return true;
        }
        if !st.active {
            return false;
        }
        let Some(check) = CHECK.get() else {
            return false;
        };
        let now = Instant::now();
        if st.last.is_some_and(|l| now.duration_since(l) < PERIOD) {
            return false;
        }
        st.last = Some(now);
        st.interrupted = check();
        s.set(st);
        st.interrupted
    })
}

/// Whether this thread's computation was interrupted (no check is run).
#[inline]
pub fn interrupted() -> bool {
    STATE.with(|s| s.get().interrupted)
}

/// `Err(Interrupted)` once the computation was interrupted.
#[inline]
pub fn check() -> Result<()> {
    if interrupted() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_scope_nothing_is_checked_and_scopes_reset() {
        assert!(!poll() && !interrupted());
        {
            let _s = Scope::enter();
            STATE.with(|s| {
                let mut st = s.get();
                st.interrupted = true;
                s.set(st)
            });
            assert!(poll() && check().is_err());
            {
                let _inner = Scope::enter();
                assert!(!interrupted());
            }
            assert!(interrupted(), "the enclosing scope keeps its state");
        }
        assert!(!interrupted() && check().is_ok());
    }
}
