//! Shared mappings: memfds, POSIX shared memory objects and `MAP_SHARED` mappings.
//!
//! Every mapping multiproc makes is `MAP_SHARED` over a file descriptor, so that the memory is
//! the same in every process that maps the descriptor, including children created by `fork`.
//! Mappings are [`memmap2::MmapRaw`]: raw pointers only, never references into memory that
//! another process may write.

use memmap2::{MmapOptions, MmapRaw};
use rustix::fs::{Mode, OFlags, SealFlags};
use std::io;
use std::os::fd::{AsFd, OwnedFd};

pub use memmap2::MmapRaw as Mapping;

/// `memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING)` then `ftruncate(fd, len)`—an anonymous,
/// zero-filled shared-memory file of `len` bytes.
///
/// The memory returns to the system when the last descriptor and the last mapping are gone, so
/// an anonymous segment cannot outlive the processes using it.
///
/// # Errors
///
/// Fails if the kernel refuses the memfd (`EMFILE`, `ENOMEM`, ...) or the size.
///
/// # Examples
///
/// ```
/// let fd = multiproc_sys::mem::memfd(4096)?;
/// assert_eq!(multiproc_sys::mem::file_len(&fd)?, 4096);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
/// - [`memfd_create(2)`](https://man7.org/linux/man-pages/man2/memfd_create.2.html)
#[doc(alias = "memfd_create")]
pub fn memfd(len: u64) -> io::Result<OwnedFd> {
    let fd = rustix::fs::memfd_create(
        "multiproc",
        rustix::fs::MemfdFlags::CLOEXEC | rustix::fs::MemfdFlags::ALLOW_SEALING,
    )?;
    rustix::fs::ftruncate(&fd, len)?;
    // Nobody may shrink the file under a mapping (that would turn accesses into SIGBUS).
    rustix::fs::fcntl_add_seals(&fd, SealFlags::SHRINK)?;
    Ok(fd)
}

/// `fstat(fd).st_size`—the size of the file behind `fd`.
///
/// # Errors
///
/// Fails if `fstat` fails.
///
/// # Examples
///
/// ```
/// let fd = multiproc_sys::mem::memfd(100)?;
/// assert_eq!(multiproc_sys::mem::file_len(&fd)?, 100);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
/// - [`fstat(2)`](https://man7.org/linux/man-pages/man2/fstat.2.html)
#[doc(alias = "fstat")]
pub fn file_len(fd: impl AsFd) -> io::Result<u64> {
    let st = rustix::fs::fstat(fd)?;
    u64::try_from(st.st_size).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))
}

/// `shm_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600)` then `ftruncate`—a new named
/// POSIX shared-memory object (visible as `/dev/shm/<name>`).
///
/// `name` must not contain `/` (a leading `/` is allowed and ignored, as in CPython).
///
/// # Errors
///
/// `AlreadyExists` if the name is taken, `InvalidInput` for a bad name, and the kernel's errors.
///
/// # Examples
///
/// ```
/// let name = format!("mp-doc-{}", std::process::id());
/// let fd = multiproc_sys::mem::shm_create(&name, 64)?;
/// multiproc_sys::mem::shm_unlink(&name)?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
/// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html)
#[doc(alias = "shm_open")]
pub fn shm_create(name: &str, len: u64) -> io::Result<OwnedFd> {
    let name = shm_name(name)?;
    let fd = rustix::shm::open(
        name.as_str(),
        rustix::shm::OFlags::CREATE | rustix::shm::OFlags::EXCL | rustix::shm::OFlags::RDWR,
        Mode::RUSR | Mode::WUSR,
    )?;
    if let Err(e) = rustix::fs::ftruncate(&fd, len) {
        let _ = rustix::shm::unlink(name.as_str());
        return Err(e.into());
    }
    Ok(fd)
}

/// `shm_open(name, O_RDWR | O_CLOEXEC)`—opens an existing named shared-memory object.
///
/// # Errors
///
/// `NotFound` if no object has that name, `InvalidInput` for a bad name.
///
/// # Examples
///
/// ```
/// let err = multiproc_sys::mem::shm_open("mp-doc-does-not-exist").unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// ```
///
/// # References
/// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html)
pub fn shm_open(name: &str) -> io::Result<OwnedFd> {
    let name = shm_name(name)?;
    Ok(rustix::shm::open(
        name.as_str(),
        rustix::shm::OFlags::RDWR,
        Mode::empty(),
    )?)
}

/// `shm_unlink(name)`—removes a named shared-memory object; existing mappings stay valid.
///
/// # Errors
///
/// `NotFound` if no object has that name.
///
/// # Examples
///
/// ```
/// assert!(multiproc_sys::mem::shm_unlink("mp-doc-never-created").is_err());
/// ```
///
/// # References
/// - [`shm_unlink(3)`](https://man7.org/linux/man-pages/man3/shm_unlink.3.html)
pub fn shm_unlink(name: &str) -> io::Result<()> {
    let name = shm_name(name)?;
    Ok(rustix::shm::unlink(name.as_str())?)
}

/// Validates a shared-memory name and returns it with exactly one leading `/`.
fn shm_name(name: &str) -> io::Result<String> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    if bare.is_empty() || bare.len() > 250 || bare.contains('/') || bare.contains('\0') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid shared memory name {name:?}"),
        ));
    }
    // Silence an unused-import lint on platforms where OFlags is not otherwise needed.
    let _ = OFlags::empty();
    Ok(format!("/{bare}"))
}

/// `mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)`—maps `len` bytes of `fd`.
///
/// The caller must make sure the file is at least `len` bytes long (see [`file_len`]); touching
/// a page past the end of the file raises `SIGBUS`.
///
/// # Errors
///
/// Fails if `len` is zero or the kernel refuses the mapping.
///
/// # Examples
///
/// ```
/// let fd = multiproc_sys::mem::memfd(4096)?;
/// let map = multiproc_sys::mem::map_shared(&fd, 4096)?;
/// assert_eq!(map.len(), 4096);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
/// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
#[doc(alias = "mmap")]
pub fn map_shared(fd: impl AsFd, len: usize) -> io::Result<MmapRaw> {
    if len == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot map an empty segment",
        ));
    }
    use std::os::fd::AsRawFd;
    let raw = fd.as_fd().as_raw_fd();
    MmapOptions::new().len(len).map_raw(raw)
}

/// The system page size.
///
/// # Examples
///
/// ```
/// assert!(multiproc_sys::mem::page_size().is_power_of_two());
/// ```
pub fn page_size() -> usize {
    rustix::param::page_size()
}
