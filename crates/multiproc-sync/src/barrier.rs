//! [`Barrier`]: wait until a fixed number of parties have arrived.

use crate::raw::Os;
use crate::raw::barrier::{BarrierState, Broken, MAX_PARTIES};
use crate::segment::{Kind, Segment};
use crate::{BrokenBarrier, Error};
use multiproc_sys::sync::atomic::AtomicU32;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the per-party slots start inside the body.
const SLOTS_OFFSET: usize = 16;
const _: () = assert!(size_of::<BarrierState>() <= SLOTS_OFFSET);

type Action = Arc<dyn Fn() + Send + Sync>;

/// A barrier for a fixed number of parties (processes or threads): CPython's
/// `multiprocessing.Barrier`.
///
/// [`wait`](Self::wait) blocks until `parties` callers have arrived, then releases them all and
/// returns each one's arrival index (`0..parties`). The barrier can be [`abort`](Self::abort)ed
/// and [`reset`](Self::reset); a timeout, an abort, a panicking action, or a party that dies
/// inside `wait` (its process killed) *breaks* it: waiters get [`BrokenBarrier`]. A dead party
/// is noticed by the others within about 20 ms (they check the arrived parties' process ids), so
/// nobody waits forever for it.
///
/// The optional action runs in the last party to arrive, before the others are released. It is
/// a closure of this process: a handle received by another process has no action (give it one
/// with [`set_action`](Self::set_action)).
///
/// # Examples
///
/// ```
/// use multiproc_sync::Barrier;
///
/// let barrier = Barrier::new(2)?;
/// let other = barrier.clone();
/// let t = std::thread::spawn(move || other.wait());
/// let mine = barrier.wait().unwrap();
/// let theirs = t.join().unwrap().unwrap();
/// assert_eq!(mine + theirs, 1); // indexes 0 and 1
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
#[derive(Clone)]
pub struct Barrier {
    seg: Arc<Segment>,
    parties: u32,
    action: Option<Action>,
}

impl Barrier {
    /// Creates a barrier for `parties` parties in anonymous shared memory (a block of the shared arena).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for 0 parties or more than 65,534; [`Error::Io`] if the
    /// segment cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_sync::Barrier::new(3)?.parties(), 3);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn new(parties: u32) -> Result<Self, Error> {
        Self::create(None, parties)
    }

    /// Creates a barrier whose last arriving party runs `action` before releasing the others.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = multiproc_sync::Barrier::with_action(1, || println!("all here"))?;
    /// assert_eq!(b.wait(), Ok(0));
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn with_action(
        parties: u32,
        action: impl Fn() + Send + Sync + 'static,
    ) -> Result<Self, Error> {
        let mut b = Self::new(parties)?;
        b.set_action(action);
        Ok(b)
    }

    /// Creates a barrier in a named segment; open it with [`open_named`](Self::open_named).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), and [`Error::Io`] if the name exists already or is invalid.
    ///
    /// # Examples
    ///
    /// ```
    /// let name = format!("doc_barrier_{}", std::process::id());
    /// let b = multiproc_sync::Barrier::create_named(&name, 2)?;
    /// assert_eq!(multiproc_sync::Barrier::open_named(&name)?.parties(), 2);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn create_named(name: &str, parties: u32) -> Result<Self, Error> {
        Self::create(Some(name), parties)
    }

    fn create(name: Option<&str>, parties: u32) -> Result<Self, Error> {
        if parties == 0 || parties > MAX_PARTIES {
            return Err(Error::InvalidArgument(
                "a barrier needs between 1 and 65534 parties",
            ));
        }
        let body = SLOTS_OFFSET + 4 * parties as usize;
        let seg = Segment::create(Kind::Barrier, body, name, |seg| {
            seg.body::<BarrierState>().init(parties);
        })?;
        Ok(Self {
            seg,
            parties,
            action: None,
        })
    }

    /// Opens a named barrier created by another process.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if there is no such segment; [`Error::Attach`] if it is not a barrier
    /// or its party count does not fit the segment.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_sync::Barrier::open_named("no_such_barrier_here").is_err());
    /// ```
    pub fn open_named(name: &str) -> Result<Self, Error> {
        Self::from_segment(Segment::open(name, Kind::Barrier, SLOTS_OFFSET)?)
    }

    fn from_segment(seg: Arc<Segment>) -> Result<Self, Error> {
        let parties = seg.body::<BarrierState>().parties();
        if parties == 0 || parties > MAX_PARTIES || !seg.has_words(SLOTS_OFFSET, parties as usize) {
            return Err(Error::BadHeader(
                "barrier party count does not fit its segment",
            ));
        }
        Ok(Self {
            seg,
            parties,
            action: None,
        })
    }

    /// Sets (or replaces) this handle's action.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = multiproc_sync::Barrier::new(1)?;
    /// b.set_action(|| ());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn set_action(&mut self, action: impl Fn() + Send + Sync + 'static) {
        self.action = Some(Arc::new(action));
    }

    fn state(&self) -> &BarrierState {
        self.seg.body::<BarrierState>()
    }

    fn slots(&self) -> &[AtomicU32] {
        self.seg.words(SLOTS_OFFSET, self.parties as usize)
    }

    /// Waits until all parties have arrived; returns this party's arrival index.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`] if the barrier is or becomes broken while waiting.
    ///
    /// # Panics
    ///
    /// If the action panics (in the party that runs it), after breaking the barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = multiproc_sync::Barrier::new(1)?;
    /// assert_eq!(b.wait(), Ok(0));
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn wait(&self) -> Result<u32, BrokenBarrier> {
        self.wait_until(None)
    }

    /// Waits at most `timeout`; a timeout breaks the barrier (for everyone, as in CPython).
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`] on timeout, or if the barrier is or becomes broken.
    ///
    /// # Panics
    ///
    /// If the action panics, as for [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = multiproc_sync::Barrier::new(2)?;
    /// assert!(b.wait_timeout(Duration::from_millis(5)).is_err());
    /// assert!(b.broken());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<u32, BrokenBarrier> {
        self.wait_until(Instant::now().checked_add(timeout))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Result<u32, BrokenBarrier> {
        let mut panicked = None;
        let result = self
            .state()
            .wait(&Os, self.slots(), deadline, || match &self.action {
                None => true,
                Some(action) => {
                    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| action())) {
                        Ok(()) => true,
                        Err(payload) => {
                            panicked = Some(payload);
                            false
                        }
                    }
                }
            });
        if let Some(payload) = panicked {
            std::panic::resume_unwind(payload);
        }
        result.map_err(|Broken| BrokenBarrier)
    }

    /// The number of parties.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_sync::Barrier::new(4)?.parties(), 4);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn parties(&self) -> u32 {
        self.parties
    }

    /// How many parties are waiting now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_sync::Barrier::new(4)?.n_waiting(), 0);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn n_waiting(&self) -> u32 {
        self.state().n_waiting()
    }

    /// Whether the barrier is broken.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = multiproc_sync::Barrier::new(2)?;
    /// b.abort();
    /// assert!(b.broken());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn broken(&self) -> bool {
        self.state().is_broken()
    }

    /// Breaks the barrier: waiters, and later callers until [`reset`](Self::reset), get
    /// [`BrokenBarrier`].
    ///
    /// # Examples
    ///
    /// ```
    /// let b = multiproc_sync::Barrier::new(2)?;
    /// b.abort();
    /// assert!(b.wait().is_err());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn abort(&self) {
        self.state().abort();
    }

    /// Returns the barrier to its empty state; parties waiting now get [`BrokenBarrier`].
    ///
    /// # Examples
    ///
    /// ```
    /// let b = multiproc_sync::Barrier::new(1)?;
    /// b.abort();
    /// b.reset();
    /// assert_eq!(b.wait(), Ok(0));
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn reset(&self) {
        self.state().reset(self.slots());
    }
}

impl Serialize for Barrier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.seg.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Barrier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let seg = Segment::deserialize(d, Kind::Barrier, SLOTS_OFFSET)?;
        Self::from_segment(seg).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.broken())
            .finish_non_exhaustive()
    }
}
