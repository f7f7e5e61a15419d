//! `SimpleQueue<T>`: Python's `multiprocessing.SimpleQueue`.

use crate::error::{Error, GetError, PutError};
use crate::queue::Queue;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An unbounded queue with only `put`, `get`, `empty` and `close` (Python's
/// `multiprocessing.SimpleQueue`). It is a [`Queue`] underneath, with the same guarantees.
///
/// # Examples
///
/// ```
/// let q = multiproc_queue::SimpleQueue::new()?;
/// q.put(String::from("hi"))?;
/// assert_eq!(q.get()?, "hi");
/// assert!(q.empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SimpleQueue<T> {
    inner: Queue<T>,
}

impl<T> Clone for SimpleQueue<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for SimpleQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SimpleQueue").field(&self.inner).finish()
    }
}

impl<T> SimpleQueue<T> {
    /// Creates an empty queue (1 MiB ring, no item limit).
    ///
    /// # Errors
    ///
    /// [`Error::Ring`] when the shared memory cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::SimpleQueue<u8> = multiproc_queue::SimpleQueue::new()?;
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn new() -> Result<Self, Error> {
        Ok(Self {
            inner: Queue::new()?,
        })
    }

    /// Whether the queue is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::SimpleQueue<u8> = multiproc_queue::SimpleQueue::new()?;
    /// assert!(q.empty());
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn empty(&self) -> bool {
        self.inner.empty()
    }

    /// Closes the queue (see [`Queue::close`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::SimpleQueue<u8> = multiproc_queue::SimpleQueue::new()?;
    /// q.close();
    /// assert!(q.put(1).is_err());
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn close(&self) {
        self.inner.close();
    }
}

impl<T: Serialize> SimpleQueue<T> {
    /// Puts `value` (see [`Queue::put`]).
    ///
    /// # Errors
    ///
    /// [`PutError::Closed`], [`PutError::Failed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::SimpleQueue::new()?;
    /// q.put([1u8, 2, 3])?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn put(&self, value: T) -> Result<(), PutError<T>> {
        self.inner.put(value)
    }
}

impl<T: DeserializeOwned> SimpleQueue<T> {
    /// Takes the front item, waiting as long as it takes (see [`Queue::get`]).
    ///
    /// # Errors
    ///
    /// [`GetError::Closed`], [`GetError::Failed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::SimpleQueue::new()?;
    /// q.put(9i64)?;
    /// assert_eq!(q.get()?, 9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self) -> Result<T, GetError> {
        self.inner.get()
    }
}

impl<T> Serialize for SimpleQueue<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.inner.serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for SimpleQueue<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self {
            inner: Queue::deserialize(d)?,
        })
    }
}
