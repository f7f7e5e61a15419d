//! Helpers of the multi-process tests beyond `multiproc-testkit` (which forks, waits with a
//! deadline, and kills and reaps on drop): a non-atomic counter in shared memory, and a look
//! into `/dev/shm`.
#![allow(dead_code, unsafe_code)]

/// Entries in /dev/shm whose name contains `needle`.
pub(crate) fn shm_entries(needle: &str) -> usize {
    multiproc_testkit::dev_shm()
        .iter()
        .filter(|n| n.contains(needle))
        .count()
}

/// A u64 cell in shared memory that is read and written non-atomically (guarded by a lock
/// under test), so that a broken lock shows up as lost increments.
pub(crate) struct Counter {
    shm: multiproc_shm::SharedMemory,
}

impl Counter {
    pub(crate) fn new() -> Self {
        Self {
            shm: multiproc_shm::SharedMemory::anonymous(4096).unwrap(),
        }
    }
    pub(crate) fn slot(&self, i: usize) -> *mut u64 {
        assert!(i < 512);
        self.shm.as_ptr().cast::<u64>().wrapping_add(i)
    }
    pub(crate) fn get(&self, i: usize) -> u64 {
        // SAFETY: in bounds, 8-aligned (page-aligned base); races are what the tests look for.
        unsafe { self.slot(i).read_volatile() }
    }
    pub(crate) fn set(&self, i: usize, v: u64) {
        // SAFETY: as in `get`.
        unsafe { self.slot(i).write_volatile(v) }
    }
}
