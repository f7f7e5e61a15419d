//! A message being written into a ring.

use crate::Error;
use crate::core::{Core, Held, Side, WriteState};
use std::fmt;
use std::time::Instant;

/// A message being written into the ring (see [`Ring::writer`](crate::Ring::writer)).
///
/// # Examples
///
/// ```
/// let ring = multiproc_ring::Ring::new(256)?;
/// let mut w = ring.writer(2, None)?;
/// w.write(b"h")?;
/// drop(w); // abandoned: nothing is sent
/// assert!(ring.is_empty());
/// # Ok::<(), multiproc_ring::Error>(())
/// ```
pub struct Writer<'a> {
    core: &'a Core,
    st: WriteState,
    total: u64,
    written: u64,
    deadline: Option<Instant>,
    held: Held,
    done: bool,
}

impl fmt::Debug for Writer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("total", &self.total)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl<'a> Writer<'a> {
    pub(crate) fn new(
        core: &'a Core,
        st: WriteState,
        total: u64,
        deadline: Option<Instant>,
        held: Held,
    ) -> Self {
        Self {
            core,
            st,
            total,
            written: 0,
            deadline,
            held,
            done: false,
        }
    }

    /// Appends `data` to the message. A streamed message publishes its pieces as they fill,
    /// waiting for room (until the writer's deadline).
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] when writing past the announced length, [`Error::Timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// let mut w = ring.writer(1, None)?;
    /// assert!(w.write(b"too long").is_err());
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        self.core.write(
            &mut self.st,
            self.total,
            &mut self.written,
            data,
            self.deadline,
        )
    }

    /// Bytes still to write.
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// let mut w = ring.writer(3, None)?;
    /// w.write(b"a")?;
    /// assert_eq!(w.remaining(), 2);
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn remaining(&self) -> usize {
        crate::mem::us(self.total - self.written)
    }

    /// Makes the message visible to consumers (its commit point).
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] when fewer bytes than announced were written (the message is
    /// abandoned).
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// let w = ring.writer(0, None)?;
    /// w.commit()?;
    /// assert_eq!(ring.recv()?, b"");
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn commit(mut self) -> Result<(), Error> {
        self.core.commit(&self.st, self.total, self.written)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.core.abort(&self.st);
        }
        self.core.release(Side::Prod, self.held);
    }
}
