//! [`Event`]: a flag that processes can wait for.

use crate::Error;
use crate::raw::event::EventState;
use crate::segment::{Kind, Segment, serde_via_segment};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A flag shared between processes that others can wait for: CPython's
/// `multiprocessing.Event`.
///
/// # Examples
///
/// ```
/// use multiproc_sync::Event;
/// use std::time::Duration;
///
/// let ready = Event::new()?;
/// assert!(!ready.wait_timeout(Duration::from_millis(1)));
/// ready.set();
/// ready.wait(); // returns at once
/// assert!(ready.is_set());
/// ready.clear();
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
#[derive(Clone)]
pub struct Event {
    seg: Arc<Segment>,
}

serde_via_segment!(Event, Kind::Event, EventState);

impl Event {
    /// Creates a clear event in anonymous shared memory (a block of the shared arena).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the segment cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!multiproc_sync::Event::new()?.is_set());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn new() -> Result<Self, Error> {
        Self::create(None)
    }

    /// Creates a clear event in a named segment; open it with [`open_named`](Self::open_named).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the name exists already or is invalid.
    ///
    /// # Examples
    ///
    /// ```
    /// let name = format!("doc_event_{}", std::process::id());
    /// let ev = multiproc_sync::Event::create_named(&name)?;
    /// multiproc_sync::Event::open_named(&name)?.set();
    /// assert!(ev.is_set());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn create_named(name: &str) -> Result<Self, Error> {
        Self::create(Some(name))
    }

    fn create(name: Option<&str>) -> Result<Self, Error> {
        let seg = Segment::create(Kind::Event, size_of::<EventState>(), name, |_| {})?;
        Ok(Self { seg })
    }

    /// Opens a named event created by another process.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if there is no such segment; [`Error::Attach`] if it is not an event.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_sync::Event::open_named("no_such_event_here").is_err());
    /// ```
    pub fn open_named(name: &str) -> Result<Self, Error> {
        let seg = Segment::open(name, Kind::Event, size_of::<EventState>())?;
        Ok(Self { seg })
    }

    fn state(&self) -> &EventState {
        self.seg.body::<EventState>()
    }

    /// Whether the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = multiproc_sync::Event::new()?;
    /// ev.set();
    /// assert!(ev.is_set());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn is_set(&self) -> bool {
        self.state().is_set()
    }

    /// Sets the flag and wakes every waiter (in every process).
    ///
    /// # Examples
    ///
    /// ```
    /// multiproc_sync::Event::new()?.set();
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn set(&self) {
        self.state().set();
    }

    /// Clears the flag.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = multiproc_sync::Event::new()?;
    /// ev.set();
    /// ev.clear();
    /// assert!(!ev.is_set());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn clear(&self) {
        self.state().clear();
    }

    /// Waits until the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = multiproc_sync::Event::new()?;
    /// ev.set();
    /// ev.wait();
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn wait(&self) {
        while self.state().wait(None).is_err() {}
    }

    /// Waits at most `timeout`; returns whether the flag is set (CPython: `wait(timeout)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = multiproc_sync::Event::new()?;
    /// assert!(!ev.wait_timeout(std::time::Duration::from_millis(2)));
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    #[doc(alias = "wait(timeout)")]
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.state()
            .wait(Instant::now().checked_add(timeout))
            .is_ok()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}
