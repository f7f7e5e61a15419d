//! The consumer side of a ring, claimed by one handle.

use crate::core::Side;
use crate::ring::Wait;
use crate::{Error, Ring};
use std::fmt;
use std::time::Instant;

/// The consumer side of a ring, claimed by one handle (single-consumer mode).
///
/// # Examples
///
/// ```
/// let ring = multiproc_ring::Ring::new(4096)?;
/// let mut rx = ring.receiver()?;
/// ring.send(b"a")?;
/// assert_eq!(rx.try_recv()?, b"a");
/// # Ok::<(), multiproc_ring::Error>(())
/// ```
pub struct Receiver {
    ring: Ring,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("ring", &self.ring)
            .finish()
    }
}

impl Receiver {
    pub(crate) fn new(ring: Ring) -> Self {
        Self { ring }
    }

    /// Takes the next message, waiting as long as it takes.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`], [`Error::Corrupt`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// ring.send(b"a")?;
    /// assert_eq!(ring.receiver()?.recv()?, b"a");
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn recv(&mut self) -> Result<Vec<u8>, Error> {
        self.ring
            .recv_inner(Wait::Until(None), <[u8]>::to_vec, true)
    }

    /// Calls `f` on the next message's bytes in place, waiting until `deadline`.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`], [`Error::Closed`], [`Error::Corrupt`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// ring.send(b"abc")?;
    /// assert_eq!(ring.receiver()?.recv_with(None, |b| b.len())?, 3);
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn recv_with<R>(
        &mut self,
        deadline: Option<Instant>,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, Error> {
        self.ring.recv_inner(Wait::Until(deadline), f, true)
    }

    /// Takes the next message if there is one.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`], [`Error::Closed`], [`Error::Corrupt`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// assert!(ring.receiver()?.try_recv().is_err());
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn try_recv(&mut self) -> Result<Vec<u8>, Error> {
        self.ring.recv_inner(Wait::Try, <[u8]>::to_vec, true)
    }

    /// The ring this receiver belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// assert_eq!(ring.receiver()?.ring().len(), 0);
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn ring(&self) -> &Ring {
        &self.ring
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.ring.core.unlock(Side::Cons);
    }
}
