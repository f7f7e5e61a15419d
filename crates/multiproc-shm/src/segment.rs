//! [`SharedMemory`]: a block of memory mapped `MAP_SHARED` into every process that holds it.

use crate::{View, handle};
use bytemuck::Pod;
use multiproc_sys::mem;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// A shared-memory segment: anonymous (a memfd, gone when the last process lets go) or named (a
/// POSIX shared-memory object under `/dev/shm`, openable by name from unrelated processes).
///
/// The Rust face of CPython's `multiprocessing.shared_memory.SharedMemory`. The memory is
/// zero-filled when created. It is reached only through raw pointers ([`as_ptr`](Self::as_ptr)):
/// other processes may write it at any time, so no `&mut [u8]` is ever handed out. Typed,
/// shared-memory-aware structures (locks, queues, values) are built on top.
///
/// A segment passes to another process inside a message or as a process argument: its file
/// descriptor travels with [handle transfer](crate::handle) and the receiver maps the same memory.
///
/// Named segments are owned by their creator: the creating process unlinks the name when its
/// `SharedMemory` is dropped (or on [`unlink`](Self::unlink)); processes that open or receive it
/// never unlink it. Existing mappings stay valid after the unlink.
///
/// # Differences from CPython
///
/// - CPython registers every segment a process *opens* with its resource tracker, which unlinks
///   it when that process exits (bpo-39959, fixed only by 3.13's `track=False`): an attacher
///   can destroy the creator's segment. Here only the creating process unlinks, on drop or
///   [`unlink`](Self::unlink); [`persist`](Self::persist) hands that duty to the caller.
/// - There is no resource-tracker process: a creator killed by `SIGKILL` leaves its name in
///   `/dev/shm` (remove it with [`multiproc_sys::mem::shm_unlink`]). Anonymous segments
///   ([`anonymous`](Self::anonymous)) cannot leak at all: prefer them unless an unrelated
///   process must open the segment by name.
/// - A forked child inherits the creator's handle but is not the owner (ownership is recorded
///   by process id), so a child dropping its copy does not unlink the name.
/// - `shm.buf` is [`as_slice_of`](Self::as_slice_of)/[`view_at`](Self::view_at): typed views
///   whose elements are copied atomically, instead of a writable buffer.
/// - The size is exactly what was asked (CPython may round up to a page on some systems).
///
/// # Examples
///
/// ```
/// use multiproc_shm::SharedMemory;
///
/// let shm = SharedMemory::anonymous(4096)?;
/// assert_eq!(shm.len(), 4096);
/// // SAFETY: the segment is 4096 bytes long and only this thread touches it.
/// unsafe { shm.as_ptr().write(42) };
/// // SAFETY: as above.
/// assert_eq!(unsafe { shm.as_ptr().read() }, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct SharedMemory {
    map: mem::Mapping,
    fd: OwnedFd,
    len: usize,
    name: Option<String>,
    /// The pid that created the name and must unlink it (0 = not ours).
    owner_pid: u32,
    unlinked: AtomicBool,
}

// SAFETY: the mapping is process-wide memory reached only through raw pointers; every structure
// placed in it synchronises through atomics. Moving or sharing the owning handle between threads
// is as safe as sharing the fd.
unsafe impl Send for SharedMemory {}
// SAFETY: as for `Send`: `&SharedMemory` only hands out raw pointers and immutable metadata.
unsafe impl Sync for SharedMemory {}

impl SharedMemory {
    /// Creates an anonymous segment of `len` bytes (a memfd).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for `len == 0`; the kernel's errors for memfd/mmap.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(100)?;
    /// assert_eq!(shm.len(), 100);
    /// assert_eq!(shm.name(), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn anonymous(len: usize) -> io::Result<Self> {
        check_len(len)?;
        let fd = mem::memfd(len as u64)?;
        let map = mem::map_shared(&fd, len)?;
        Ok(SharedMemory {
            map,
            fd,
            len,
            name: None,
            owner_pid: 0,
            unlinked: AtomicBool::new(true),
        })
    }

    /// Creates a named segment of `len` bytes; with `name == None` a unique name is generated.
    ///
    /// # Errors
    ///
    /// `AlreadyExists` if the name is taken, `InvalidInput` for a bad name or `len == 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_shm::SharedMemory;
    ///
    /// let shm = SharedMemory::create(None, 1024)?;
    /// let name = shm.name().unwrap().to_owned();
    /// let other = SharedMemory::open(&name)?;
    /// assert_eq!(other.len(), 1024);
    /// drop(shm); // the creator unlinks the name
    /// assert!(SharedMemory::open(&name).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn create(name: Option<&str>, len: usize) -> io::Result<Self> {
        check_len(len)?;
        let (name, fd) = match name {
            Some(n) => {
                let n = n.strip_prefix('/').unwrap_or(n).to_owned();
                let fd = mem::shm_create(&n, len as u64)?;
                (n, fd)
            }
            None => loop {
                let n = generated_name()?;
                match mem::shm_create(&n, len as u64) {
                    Ok(fd) => break (n, fd),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(e),
                }
            },
        };
        let map = match mem::map_shared(&fd, len) {
            Ok(m) => m,
            Err(e) => {
                let _ = mem::shm_unlink(&name);
                return Err(e);
            }
        };
        Ok(SharedMemory {
            map,
            fd,
            len,
            name: Some(name),
            owner_pid: std::process::id(),
            unlinked: AtomicBool::new(false),
        })
    }

    /// Opens an existing named segment; its size is the object's size.
    ///
    /// # Errors
    ///
    /// `NotFound` if there is no such segment; `InvalidData` if it is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_shm::SharedMemory::open("mp-no-such-segment").is_err());
    /// ```
    pub fn open(name: &str) -> io::Result<Self> {
        let name = name.strip_prefix('/').unwrap_or(name).to_owned();
        let fd = mem::shm_open(&name)?;
        let len = usize::try_from(mem::file_len(&fd)?)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "segment too large"))?;
        check_len(len)?;
        let map = mem::map_shared(&fd, len)?;
        Ok(SharedMemory {
            map,
            fd,
            len,
            name: Some(name),
            owner_pid: 0,
            unlinked: AtomicBool::new(true),
        })
    }

    /// Rebuilds a segment from a received descriptor, checking that the file really is `len`
    /// bytes long (a hostile or stale length would turn accesses into `SIGBUS`).
    ///
    /// # Errors
    ///
    /// `InvalidData` if the file is shorter than `len`, or `len == 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// let fd = multiproc_sys::mem::memfd(64)?;
    /// let shm = multiproc_shm::SharedMemory::from_fd(fd, 64, None)?;
    /// assert_eq!(shm.len(), 64);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_fd(fd: OwnedFd, len: usize, name: Option<String>) -> io::Result<Self> {
        check_len(len)?;
        let actual = mem::file_len(&fd)?;
        if actual < len as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("segment file is {actual} bytes, expected at least {len}"),
            ));
        }
        let map = mem::map_shared(&fd, len)?;
        Ok(SharedMemory {
            map,
            fd,
            len,
            name,
            owner_pid: 0,
            unlinked: AtomicBool::new(true),
        })
    }

    /// The first byte of the mapping (page-aligned).
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(4096)?;
    /// assert_eq!(shm.as_ptr() as usize % 4096, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn as_ptr(&self) -> *mut u8 {
        self.map.as_mut_ptr()
    }

    /// The segment's size in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shm::SharedMemory::anonymous(10)?.len(), 10);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[doc(alias = "size")]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always `false`: segments are never empty.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!multiproc_shm::SharedMemory::anonymous(10)?.is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The segment's name, for named segments (without a leading `/`).
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::create(None, 10)?;
    /// assert!(shm.name().is_some());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Removes the name now (creator only); the memory stays mapped and usable until dropped.
    ///
    /// Calling it again, or on a segment this process did not create, does nothing.
    ///
    /// # Errors
    ///
    /// The kernel's error if the name was already removed by someone else.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::create(None, 10)?;
    /// shm.unlink()?;
    /// assert!(multiproc_shm::SharedMemory::open(shm.name().unwrap()).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unlink(&self) -> io::Result<()> {
        if self.owner_pid != std::process::id() {
            return Ok(());
        }
        if self.unlinked.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        match &self.name {
            Some(n) => mem::shm_unlink(n),
            None => Ok(()),
        }
    }

    /// A typed view of the whole segment as `len / size_of::<T>()` elements of `T` (a zero-sized
    /// `T` gives an empty view): `numpy.ndarray((n,), dtype, buffer=shm.buf)`.
    ///
    /// Elements are copied in and out atomically; see [`View`] for the access model (no
    /// references into the segment, tearing possible for wide elements, synchronisation is the
    /// caller's job, e.g. with a `Lock`).
    ///
    /// # Panics
    ///
    /// If `T` needs a larger alignment than the mapping's (a page), which no ordinary type does.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(5 * 8)?;
    /// let arr = shm.as_slice_of::<i64>();
    /// arr.copy_from_slice(&[1, 2, 3, 4, 5]);
    /// arr.store(0, 99);
    /// assert_eq!(arr.copy_to_vec(), [99, 2, 3, 4, 5]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn as_slice_of<T: Pod>(&self) -> View<'_, T> {
        let size = core::mem::size_of::<T>();
        let count = self.len.checked_div(size).unwrap_or(0);
        let ptr = self.as_ptr().cast::<T>();
        assert!(
            ptr.is_aligned(),
            "alignment of {} exceeds the mapping's",
            core::any::type_name::<T>()
        );
        // SAFETY: aligned (checked), the mapping holds `count * size <= len` bytes, lives as long
        // as `&self`, and the segment's memory is only reached through raw pointers and atomic
        // views.
        unsafe { View::from_raw_parts(ptr, count) }
    }

    /// A typed view of `count` elements of `T` starting `byte_offset` bytes into the segment.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the range does not fit in the segment or `byte_offset` is not aligned
    /// for `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(4096)?;
    /// let tail = shm.view_at::<f64>(4096 - 16, 2)?;
    /// tail.store(1, 2.5);
    /// assert!(shm.view_at::<f64>(4096 - 8, 2).is_err());
    /// assert!(shm.view_at::<f64>(3, 1).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn view_at<T: Pod>(&self, byte_offset: usize, count: usize) -> io::Result<View<'_, T>> {
        let size = core::mem::size_of::<T>();
        let end = count
            .checked_mul(size)
            .and_then(|bytes| bytes.checked_add(byte_offset));
        let fits = end.is_some_and(|end| end <= self.len) && byte_offset <= self.len;
        let aligned = self
            .as_ptr()
            .wrapping_add(byte_offset)
            .cast::<T>()
            .is_aligned();
        if !fits || !aligned {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{count} elements of {size} bytes at offset {byte_offset} do not fit \
                     (aligned) in a segment of {} bytes",
                    self.len
                ),
            ));
        }
        // SAFETY: in bounds (checked), so the offset stays inside the mapping.
        let ptr = unsafe { self.as_ptr().add(byte_offset) };
        // SAFETY: aligned for `T` (checked), `count` elements fit (checked), the mapping lives as
        // long as `&self` and is only reached through raw pointers and atomic views.
        Ok(unsafe { View::from_raw_parts(ptr.cast::<T>(), count) })
    }

    /// Closes this process's handle (Python's `shm.close()`); the same as dropping it.
    ///
    /// A creator's named segment is unlinked too, unless [`persist`](Self::persist) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(64)?;
    /// shm.close();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn close(self) {
        drop(self);
    }

    /// Keeps the name after this handle is dropped (the caller takes over unlinking it).
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::create(None, 10)?;
    /// let name = shm.name().unwrap().to_owned();
    /// shm.persist();
    /// drop(shm);
    /// let again = multiproc_shm::SharedMemory::open(&name)?;
    /// multiproc_sys::mem::shm_unlink(&name)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn persist(&self) {
        self.unlinked.store(true, Ordering::Release);
    }
}

fn check_len(len: usize) -> io::Result<()> {
    if len == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "shared memory size must be positive",
        ));
    }
    if len > isize::MAX as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "shared memory size too large",
        ));
    }
    Ok(())
}

fn generated_name() -> io::Result<String> {
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).map_err(|e| io::Error::other(e.to_string()))?;
    let hex: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("mp_{}_{hex}", std::process::id()))
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        let _ = self.unlink();
    }
}

impl AsFd for SharedMemory {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedMemory")
            .field("name", &self.name)
            .field("len", &self.len)
            .field("ptr", &self.as_ptr())
            .finish()
    }
}

#[derive(Serialize)]
struct WireRef<'a> {
    #[serde(serialize_with = "ser_borrowed")]
    fd: BorrowedFd<'a>,
    len: u64,
    name: Option<&'a str>,
}

fn ser_borrowed<S: Serializer>(fd: &BorrowedFd<'_>, s: S) -> Result<S::Ok, S::Error> {
    handle::fd::serialize_borrowed(*fd, s)
}

#[derive(Deserialize)]
struct Wire {
    #[serde(with = "handle::fd")]
    fd: OwnedFd,
    len: u64,
    name: Option<String>,
}

impl Serialize for SharedMemory {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        WireRef {
            fd: self.fd.as_fd(),
            len: self.len as u64,
            name: self.name.as_deref(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for SharedMemory {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = Wire::deserialize(d)?;
        let len = usize::try_from(w.len).map_err(serde::de::Error::custom)?;
        SharedMemory::from_fd(w.fd, len, w.name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_filled_and_shared_between_mappings() {
        let a = SharedMemory::anonymous(8192).unwrap();
        let (bytes, fds) = handle::encode_with_handles(&a).unwrap();
        let b: SharedMemory = handle::decode_with_handles(&bytes, fds).unwrap();
        // SAFETY: both mappings are 8192 bytes; this test is the only user.
        assert_eq!(unsafe { a.as_ptr().wrapping_add(8191).read() }, 0);
        // SAFETY: as above.
        unsafe { b.as_ptr().wrapping_add(100).write(7) };
        // SAFETY: as above.
        assert_eq!(unsafe { a.as_ptr().wrapping_add(100).read() }, 7);
    }

    #[test]
    fn hostile_length_is_refused() {
        let fd = mem::memfd(4096).unwrap();
        let err = SharedMemory::from_fd(fd, 1 << 20, None).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn size_zero_is_an_error() {
        assert!(SharedMemory::anonymous(0).is_err());
        assert!(SharedMemory::create(None, 0).is_err());
    }

    #[test]
    fn receivers_never_unlink() {
        let a = SharedMemory::create(None, 64).unwrap();
        let name = a.name().unwrap().to_owned();
        let (bytes, fds) = handle::encode_with_handles(&a).unwrap();
        let b: SharedMemory = handle::decode_with_handles(&bytes, fds).unwrap();
        drop(b);
        assert!(SharedMemory::open(&name).is_ok());
        drop(a);
        assert!(SharedMemory::open(&name).is_err());
    }

    #[test]
    fn cannot_go_through_a_plain_encode() {
        let a = SharedMemory::anonymous(64).unwrap();
        assert!(matches!(
            handle::encode(&a),
            Err(handle::Error::NotTransferable)
        ));
    }
}
