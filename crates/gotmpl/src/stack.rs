//! Deeply nested templates recurse deeply in the parser and executor. Go runs them on
//! growable goroutine stacks; here recursion points grow the native stack on demand.

/// Space left on the stack below which a new segment is allocated.
const RED_ZONE: usize = 128 * 1024;
/// Size of each new stack segment.
const SEGMENT: usize = 2 * 1024 * 1024;

/// Runs `f`, first moving to a fresh stack segment if the current one is nearly full.
pub(crate) fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}
