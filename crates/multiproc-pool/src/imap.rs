//! The lazy iterator behind `imap` and `imap_unordered`.

use std::fmt;
use std::sync::{Arc, PoisonError};

use crate::error::Error;
use crate::sink::IterSink;

/// Submits the next chunk; returns its length, or `None` when the input is exhausted.
pub(crate) type Feeder<'a> = Box<dyn FnMut() -> Option<usize> + 'a>;

/// The iterator [`Pool::imap`](crate::Pool::imap) and
/// [`Pool::imap_unordered`](crate::Pool::imap_unordered) return (Python's `IMapIterator`).
///
/// It pulls items from the input only as results are consumed: at most a fixed number of
/// chunks (twice the number of processes) are submitted and not yet yielded, so an unbounded
/// input runs in bounded memory. Each item yields `Ok(result)` or the task's error; iteration
/// goes on after an error, as in Python.
///
/// # Examples
///
/// ```
/// use multiproc_pool::Pool;
///
/// fn square(x: u64) -> u64 { x * x }
///
/// let pool = Pool::builder().processes(2).fork().build()?;
/// // An infinite input: only what we take is computed (plus a bounded look-ahead).
/// let firsts: Vec<u64> = pool.imap(square, 0..).take(5).collect::<Result<_, _>>()?;
/// assert_eq!(firsts, [0, 1, 4, 9, 16]);
/// # Ok::<(), multiproc_pool::Error>(())
/// ```
pub struct IMapIter<'a, R> {
    sink: Arc<IterSink<R>>,
    feeder: Feeder<'a>,
    submitted: usize,
    yielded: usize,
    exhausted: bool,
    window: usize,
}

impl<R> fmt::Debug for IMapIter<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IMapIter")
            .field("ordered", &self.sink.ordered)
            .field("submitted", &self.submitted)
            .field("yielded", &self.yielded)
            .field("exhausted", &self.exhausted)
            .finish_non_exhaustive()
    }
}

impl<'a, R> IMapIter<'a, R> {
    pub(crate) fn new(sink: Arc<IterSink<R>>, feeder: Feeder<'a>, window: usize) -> Self {
        Self {
            sink,
            feeder,
            submitted: 0,
            yielded: 0,
            exhausted: false,
            window: window.max(1),
        }
    }

    fn top_up(&mut self) {
        while !self.exhausted && self.submitted - self.yielded < self.window {
            match (self.feeder)() {
                Some(n) => self.submitted += n,
                None => self.exhausted = true,
            }
        }
    }

    /// How many items were taken from the input so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_pool::Pool;
    ///
    /// let pool = Pool::builder().processes(1).fork().build()?;
    /// let mut it = pool.imap(|x: u32| x, 0..);
    /// it.next();
    /// assert!(it.submitted() < 100);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn submitted(&self) -> usize {
        self.submitted
    }
}

impl<R> Iterator for IMapIter<'_, R> {
    type Item = Result<R, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.top_up();
        if self.yielded >= self.submitted {
            return None;
        }
        let mut st = self.sink.lock();
        loop {
            let got = if self.sink.ordered {
                st.ready.remove(&self.yielded)
            } else {
                st.unordered_queue.pop_front()
            };
            if let Some(r) = got {
                self.yielded += 1;
                return Some(r);
            }
            st = self
                .sink
                .cv
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}
