//! [`Semaphore`] and [`BoundedSemaphore`]: counting semaphores shared between processes.

use crate::Error;
use crate::raw::Os;
use crate::raw::semaphore::{ReleaseError, SemaphoreState, VALUE_MAX};
use crate::segment::{Kind, Segment, serde_via_segment};
use multiproc_sys::sync::atomic::Ordering;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A counting semaphore shared between processes: CPython's `multiprocessing.Semaphore`.
///
/// [`acquire`](Self::acquire) takes a permit (waiting while there is none) and returns a guard
/// that gives it back when dropped; [`release`](Self::release) adds a permit without a guard.
/// Acquirers spin briefly before sleeping, with a budget that adapts: it grows while spinning
/// pays off (the releasing process runs on another core) and collapses when it does not (cores
/// oversubscribed). [`set_spin`](Self::set_spin) turns spinning off.
///
/// A process killed while holding a permit takes the permit with it (as in CPython): a
/// semaphore has no owner to recover from.
///
/// # Examples
///
/// ```
/// use multiproc_sync::Semaphore;
///
/// let sem = Semaphore::new(2)?; // two at a time
/// let a = sem.acquire();
/// let b = sem.acquire();
/// assert!(sem.try_acquire().is_none());
/// drop(a);
/// assert_eq!(sem.value(), 1);
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
#[derive(Clone)]
pub struct Semaphore {
    pub(crate) seg: Arc<Segment>,
}

serde_via_segment!(Semaphore, Kind::Semaphore, SemaphoreState);

/// Whether acquirers busy-wait a little before sleeping.
///
/// # Examples
///
/// ```
/// let sem = multiproc_sync::Semaphore::new(0)?;
/// sem.set_spin(multiproc_sync::Spin::Never);
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Spin {
    /// Spin with a budget that adapts to how often spinning succeeds (the default; never on a
    /// single-CPU machine).
    #[default]
    Adaptive,
    /// Go to sleep at once.
    Never,
}

/// One permit of a [`Semaphore`]; released when dropped.
///
/// # Examples
///
/// ```
/// let sem = multiproc_sync::Semaphore::new(1)?;
/// let permit = sem.acquire();
/// assert_eq!(sem.value(), 0);
/// drop(permit);
/// assert_eq!(sem.value(), 1);
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
#[must_use = "the permit is released as soon as the guard is dropped"]
pub struct SemaphoreGuard<'a> {
    sem: &'a Semaphore,
}

impl Semaphore {
    /// Creates a semaphore with `value` permits in anonymous shared memory (a block of the shared arena).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if `value` exceeds `i32::MAX`; [`Error::Io`] if the segment
    /// cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = multiproc_sync::Semaphore::new(3)?;
    /// assert_eq!(sem.value(), 3);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn new(value: u32) -> Result<Self, Error> {
        Self::create(None, value, 0)
    }

    /// Creates one in a named segment that unrelated processes can
    /// [`open_named`](Self::open_named).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), and [`Error::Io`] if the name exists already or is invalid.
    ///
    /// # Examples
    ///
    /// ```
    /// let name = format!("doc_sem_{}", std::process::id());
    /// let sem = multiproc_sync::Semaphore::create_named(&name, 1)?;
    /// let same = multiproc_sync::Semaphore::open_named(&name)?;
    /// let _permit = same.acquire();
    /// assert_eq!(sem.value(), 0);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn create_named(name: &str, value: u32) -> Result<Self, Error> {
        Self::create(Some(name), value, 0)
    }

    pub(crate) fn create(name: Option<&str>, value: u32, bound: u32) -> Result<Self, Error> {
        if value > VALUE_MAX {
            return Err(Error::InvalidArgument("semaphore value above i32::MAX"));
        }
        let seg = Segment::create(Kind::Semaphore, size_of::<SemaphoreState>(), name, |seg| {
            seg.body::<SemaphoreState>().init(value, bound)
        })?;
        Ok(Self { seg })
    }

    /// Opens a named semaphore (plain or bounded) created by another process.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if there is no such segment; [`Error::Attach`] if it is not a semaphore.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_sync::Semaphore::open_named("no_such_sem_here").is_err());
    /// ```
    pub fn open_named(name: &str) -> Result<Self, Error> {
        let seg = Segment::open(name, Kind::Semaphore, size_of::<SemaphoreState>())?;
        Ok(Self { seg })
    }

    #[inline]
    pub(crate) fn state(&self) -> &SemaphoreState {
        self.seg.body::<SemaphoreState>()
    }

    /// Takes a permit, waiting as long as it takes.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = multiproc_sync::Semaphore::new(1)?;
    /// let permit = sem.acquire();
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    #[inline]
    pub fn acquire(&self) -> SemaphoreGuard<'_> {
        while self.state().acquire(&Os, None).is_err() {}
        SemaphoreGuard { sem: self }
    }

    /// Takes a permit if one is available now (CPython: `acquire(block=False)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = multiproc_sync::Semaphore::new(0)?;
    /// assert!(sem.try_acquire().is_none());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    #[doc(alias = "acquire(block=False)")]
    pub fn try_acquire(&self) -> Option<SemaphoreGuard<'_>> {
        self.state()
            .try_acquire()
            .then(|| SemaphoreGuard { sem: self })
    }

    /// Waits at most `timeout` for a permit.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = multiproc_sync::Semaphore::new(0)?;
    /// assert!(sem.acquire_timeout(Duration::from_millis(5)).is_none());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphoreGuard<'_>> {
        let deadline = Instant::now().checked_add(timeout);
        self.state()
            .acquire(&Os, deadline)
            .ok()
            .map(|()| SemaphoreGuard { sem: self })
    }

    /// Adds a permit, waking one waiter.
    ///
    /// # Errors
    ///
    /// [`Error::TooManyReleases`] for a [`BoundedSemaphore`] at its initial value;
    /// [`Error::Overflow`] if the value would exceed `i32::MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = multiproc_sync::Semaphore::new(0)?;
    /// sem.release()?;
    /// assert_eq!(sem.value(), 1);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn release(&self) -> Result<(), Error> {
        self.state().release().map_err(|e| match e {
            ReleaseError::OverBound => Error::TooManyReleases,
            ReleaseError::Overflow => Error::Overflow,
        })
    }

    /// The number of permits available now (CPython: `get_value()`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_sync::Semaphore::new(4)?.value(), 4);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    #[doc(alias = "get_value")]
    pub fn value(&self) -> u32 {
        self.state().value()
    }

    /// Chooses whether acquirers (in every process) spin before sleeping.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = multiproc_sync::Semaphore::new(0)?;
    /// sem.set_spin(multiproc_sync::Spin::Never);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn set_spin(&self, spin: Spin) {
        let mode = match spin {
            Spin::Adaptive => 0,
            Spin::Never => 1,
        };
        self.state().spin_mode.store(mode, Ordering::Relaxed);
    }

    fn bound(&self) -> u32 {
        self.state().bound.load(Ordering::Relaxed)
    }
}

impl SemaphoreGuard<'_> {
    /// Keeps the permit: nothing is released when the guard goes (CPython's bare `acquire()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = multiproc_sync::Semaphore::new(1)?;
    /// sem.acquire().forget();
    /// assert_eq!(sem.value(), 0);
    /// sem.release()?;
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphoreGuard<'_> {
    fn drop(&mut self) {
        // Giving back a permit we took cannot exceed the bound; an overflow would need more
        // than i32::MAX unbalanced releases by others meanwhile.
        let _ = self.sem.state().release();
    }
}

impl fmt::Debug for SemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard").finish_non_exhaustive()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .field("name", &self.seg.name())
            .finish()
    }
}

/// A semaphore whose releases may not raise the value above its initial value: CPython's
/// `multiprocessing.BoundedSemaphore`. It derefs to [`Semaphore`] for everything else.
///
/// # Examples
///
/// ```
/// use multiproc_sync::{BoundedSemaphore, Error};
///
/// let sem = BoundedSemaphore::new(1)?;
/// let permit = sem.acquire();
/// drop(permit);
/// assert!(matches!(sem.release(), Err(Error::TooManyReleases)));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone)]
pub struct BoundedSemaphore {
    inner: Semaphore,
}

impl BoundedSemaphore {
    /// Creates a bounded semaphore with `value` permits (and at most `value`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if `value` is 0 or exceeds `i32::MAX`; [`Error::Io`] if the
    /// segment cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = multiproc_sync::BoundedSemaphore::new(2)?;
    /// assert_eq!(sem.value(), 2);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn new(value: u32) -> Result<Self, Error> {
        Self::create(None, value)
    }

    /// Creates one in a named segment; open it with [`open_named`](Self::open_named).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), and [`Error::Io`] if the name exists already or is invalid.
    ///
    /// # Examples
    ///
    /// ```
    /// let name = format!("doc_bsem_{}", std::process::id());
    /// let sem = multiproc_sync::BoundedSemaphore::create_named(&name, 1)?;
    /// let same = multiproc_sync::BoundedSemaphore::open_named(&name)?;
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn create_named(name: &str, value: u32) -> Result<Self, Error> {
        Self::create(Some(name), value)
    }

    fn create(name: Option<&str>, value: u32) -> Result<Self, Error> {
        if value == 0 {
            return Err(Error::InvalidArgument(
                "a bounded semaphore needs a value ≥ 1",
            ));
        }
        Ok(Self {
            inner: Semaphore::create(name, value, value)?,
        })
    }

    /// Opens a named bounded semaphore created by another process.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if there is no such segment; [`Error::Attach`] if it is not a bounded
    /// semaphore.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_sync::BoundedSemaphore::open_named("no_such_bsem").is_err());
    /// ```
    pub fn open_named(name: &str) -> Result<Self, Error> {
        Self::from_semaphore(Semaphore::open_named(name)?)
    }

    fn from_semaphore(inner: Semaphore) -> Result<Self, Error> {
        if inner.bound() == 0 {
            return Err(Error::BadHeader("the semaphore is not bounded"));
        }
        Ok(Self { inner })
    }
}

impl Deref for BoundedSemaphore {
    type Target = Semaphore;
    fn deref(&self) -> &Semaphore {
        &self.inner
    }
}

impl serde::Serialize for BoundedSemaphore {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.inner.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for BoundedSemaphore {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::from_semaphore(Semaphore::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.value())
            .field("bound", &self.bound())
            .finish()
    }
}
