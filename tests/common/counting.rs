//! A global allocator that counts the allocations (growths included) of the thread that asks,
//! for the tests that prove nothing is allocated per event. A test file installs it with
//!
//! ```text
//! #[path = "common/counting.rs"]
//! mod counting;
//! #[global_allocator]
//! static GLOBAL: counting::Counting = counting::Counting;
//! ```
//!
//! and measures with [`counted`], holding [`lock`] so that its measurements do not interleave.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Forwards every call to the system allocator, counting allocations while a thread asks.
pub struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static MEASURING: Mutex<()> = Mutex::new(());

thread_local! {
    // Const-initialised and without a destructor, so reading it never allocates.
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    if ACTIVE.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only an
// atomic and a const thread-local, neither of which allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's guarantees are passed on as they are.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A growth is an allocation as far as a hot loop is concerned.
        note();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// The running count of the allocations counted so far (of every counting thread).
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Runs `f`, counting the allocations it makes on this thread.
pub fn counted<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    ACTIVE.with(|a| a.set(true));
    let out = f();
    ACTIVE.with(|a| a.set(false));
    (out, ALLOCATIONS.load(Ordering::Relaxed) - before)
}

/// Held while measuring, so that the tests of one file measure one at a time.
pub fn lock() -> std::sync::MutexGuard<'static, ()> {
    MEASURING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
