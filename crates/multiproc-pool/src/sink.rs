//! Where chunk results go: one value (`apply`), a whole list (`map`), or an iterator
//! (`imap`, `imap_unordered`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::engine::Sink;
use crate::error::Error;
use crate::result::Completion;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One task, one result.
pub(crate) struct ApplySink<R> {
    completion: Mutex<Option<Completion<R>>>,
}

impl<R> ApplySink<R> {
    pub(crate) fn new(c: Completion<R>) -> Self {
        Self {
            completion: Mutex::new(Some(c)),
        }
    }
}

impl<R: Send + 'static> Sink<R> for ApplySink<R> {
    fn begin(&self) -> bool {
        lock(&self.completion)
            .as_ref()
            .is_some_and(|c| c.cell.begin())
    }

    fn deliver(&self, _start: usize, results: Vec<Result<R, Error>>) {
        let Some(c) = lock(&self.completion).take() else {
            return;
        };
        let r = results
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(Error::Worker("missing result".into())));
        c.complete(r);
    }
}

struct MapState<R> {
    /// The results so far, items `0..out.len()`.
    out: Vec<R>,
    /// Chunks that arrived before the ones in front of them, by first item.
    parked: BTreeMap<usize, Vec<R>>,
    /// The number of items, once every chunk has been submitted.
    total: Option<usize>,
    completion: Option<Completion<Vec<R>>>,
}

/// All results as one list, in order; the first failure fails the whole map.
///
/// Chunks are appended as soon as the chunks before them have arrived, so the list is built
/// while later chunks are still running.
pub(crate) struct MapSink<R> {
    state: Mutex<MapState<R>>,
}

impl<R: Send + 'static> MapSink<R> {
    /// A sink for `capacity` items (a hint); call [`submitted`](Self::submitted) with the true
    /// count once every chunk is queued.
    pub(crate) fn new(capacity: usize, c: Completion<Vec<R>>) -> Self {
        Self {
            state: Mutex::new(MapState {
                out: Vec::with_capacity(capacity),
                parked: BTreeMap::new(),
                total: None,
                completion: Some(c),
            }),
        }
    }

    /// Every chunk is queued: `total` items in all.
    pub(crate) fn submitted(&self, total: usize) {
        let mut st = lock(&self.state);
        st.total = Some(total);
        Self::maybe_finish(st);
    }

    fn maybe_finish(mut st: MutexGuard<'_, MapState<R>>) {
        if st.total != Some(st.out.len()) {
            return;
        }
        let Some(c) = st.completion.take() else {
            return;
        };
        let all = std::mem::take(&mut st.out);
        drop(st);
        c.complete(Ok(all));
    }
}

impl<R: Send + 'static> Sink<R> for MapSink<R> {
    fn deliver(&self, start: usize, results: Vec<Result<R, Error>>) {
        match results.into_iter().collect::<Result<Vec<R>, Error>>() {
            Ok(values) => self.deliver_ok(start, values),
            Err(e) => {
                let mut st = lock(&self.state);
                st.parked.clear();
                st.out = Vec::new();
                let c = st.completion.take();
                drop(st);
                if let Some(c) = c {
                    c.complete(Err(e));
                }
            }
        }
    }

    fn deliver_ok(&self, start: usize, mut values: Vec<R>) {
        let mut st = lock(&self.state);
        if st.completion.is_none() {
            return;
        }
        if start != st.out.len() {
            st.parked.insert(start, values);
            return;
        }
        st.out.append(&mut values);
        loop {
            let next = st.out.len();
            match st.parked.remove(&next) {
                Some(mut v) => st.out.append(&mut v),
                None => break,
            }
        }
        Self::maybe_finish(st);
    }
}

pub(crate) struct IterState<R> {
    /// Ordered: results by item index. Unordered: keys are arrival numbers.
    pub(crate) ready: BTreeMap<usize, Result<R, Error>>,
    pub(crate) arrivals: usize,
    pub(crate) unordered_queue: VecDeque<Result<R, Error>>,
}

/// Results for an iterator, by index or in arrival order.
pub(crate) struct IterSink<R> {
    pub(crate) ordered: bool,
    pub(crate) state: Mutex<IterState<R>>,
    pub(crate) cv: Condvar,
}

impl<R> IterSink<R> {
    pub(crate) fn new(ordered: bool) -> Self {
        Self {
            ordered,
            state: Mutex::new(IterState {
                ready: BTreeMap::new(),
                arrivals: 0,
                unordered_queue: VecDeque::new(),
            }),
            cv: Condvar::new(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, IterState<R>> {
        lock(&self.state)
    }
}

impl<R: Send> Sink<R> for IterSink<R> {
    fn deliver(&self, start: usize, results: Vec<Result<R, Error>>) {
        let mut st = self.lock();
        st.arrivals += results.len();
        if self.ordered {
            for (i, r) in results.into_iter().enumerate() {
                st.ready.insert(start + i, r);
            }
        } else {
            st.unordered_queue.extend(results);
        }
        drop(st);
        self.cv.notify_all();
    }
}
