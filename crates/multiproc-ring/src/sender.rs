//! The producer side of a ring, claimed by one handle.

use crate::core::Side;
use crate::ring::Wait;
use crate::{Error, Ring, Writer};
use std::fmt;
use std::time::Instant;

/// The producer side of a ring, claimed by one handle (single-producer mode).
///
/// Dropping it releases the side. A process that dies holding it is detected by the next claim.
///
/// # Examples
///
/// ```
/// let ring = multiproc_ring::Ring::new(4096)?;
/// let mut tx = ring.sender()?;
/// tx.try_send(b"1")?;
/// drop(tx);
/// let _again = ring.sender()?;
/// # Ok::<(), multiproc_ring::Error>(())
/// ```
pub struct Sender {
    ring: Ring,
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("ring", &self.ring).finish()
    }
}

impl Sender {
    pub(crate) fn new(ring: Ring) -> Self {
        Self { ring }
    }

    /// Sends `msg`, waiting for room as long as it takes.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`], [`Error::TooLarge`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// ring.sender()?.send(b"x")?;
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn send(&mut self, msg: &[u8]) -> Result<(), Error> {
        self.ring.send_inner(msg, Wait::Until(None), true)
    }

    /// Sends `msg`, waiting at most until `deadline`.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`], [`Error::Closed`], [`Error::TooLarge`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// ring.sender()?.send_deadline(b"x", None)?;
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn send_deadline(&mut self, msg: &[u8], deadline: Option<Instant>) -> Result<(), Error> {
        self.ring.send_inner(msg, Wait::Until(deadline), true)
    }

    /// Sends `msg` if there is room now.
    ///
    /// # Errors
    ///
    /// [`Error::Full`], [`Error::Closed`], [`Error::TooLarge`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// let mut tx = ring.sender()?;
    /// tx.try_send(&[0; 100])?;
    /// tx.try_send(&[0; 100])?;
    /// assert!(tx.try_send(&[0; 100]).is_err());
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn try_send(&mut self, msg: &[u8]) -> Result<(), Error> {
        self.ring.send_inner(msg, Wait::Try, true)
    }

    /// Starts a message of `len` bytes (see [`Ring::writer`](crate::Ring::writer)).
    ///
    /// # Errors
    ///
    /// As [`Ring::writer`](crate::Ring::writer).
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// let mut tx = ring.sender()?;
    /// let mut w = tx.writer(2, None)?;
    /// w.write(b"ok")?;
    /// w.commit()?;
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn writer(&mut self, len: usize, deadline: Option<Instant>) -> Result<Writer<'_>, Error> {
        self.ring
            .writer_inner(len as u64, Wait::Until(deadline), true)
    }

    /// The ring this sender belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// assert_eq!(ring.sender()?.ring().capacity(), 4096);
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn ring(&self) -> &Ring {
        &self.ring
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.ring.core.unlock(Side::Prod);
    }
}
