//! `Value<T>` and `Array<T>` in shared memory: CPython's `multiprocessing.Value`, `Array`,
//! `RawValue` and `RawArray` (the `sharedctypes` module) for plain-old-data types.
//!
//! `T` is any [`bytemuck::Pod`] type: integers, floats, [`Bool`], fixed-size arrays of those, or
//! `#[repr(C)]` structs deriving `Pod` (the Rust face of ctypes `Structure`s). Pod types hold no
//! pointers, so nothing process-local can leak into another process, and every bit pattern
//! another process writes is a valid value.
//!
//! Values and arrays, and the state of their locks, live in shared arena segments
//! ([`multiproc_shm::Block`]): 10,000 `Value`s cost a handful of segments and file descriptors,
//! not 10,000. They are `Clone` (same memory), `Send + Sync` and `Serialize + Deserialize` by
//! handle transfer, so they pass to child processes as arguments under every start method, or
//! through a `Pipe`.
//!
//! | Python | multiproc |
//! |---|---|
//! | `Value('i', 0)` | [`Value::new(0i32)`](Value::new) (with a [`Lock`](multiproc_sync::Lock)) |
//! | `Value('i', 0, lock=l)` / CPython's default `RLock` | [`Value::with_lock(0, l)`](Value::with_lock), `Value<i32, RLock>` |
//! | `with v.get_lock(): v.value += 1` | `*v.lock() += 1` ([`Value::lock`] → [`ValueGuard`]) |
//! | `v.value` / `v.value = x` | [`Value::load`] / [`Value::store`] (take the lock once) |
//! | `v.get_lock()` / `v.get_obj()` | [`Value::get_lock`] / [`Value::get_obj`] |
//! | `Array('i', 10)` / `Array('i', [1, 2])` | [`Array::<i32>::new(10)`](Array::new) / [`Array::from_slice`] |
//! | `with arr.get_lock(): arr[i] = x ...` | [`Array::lock`] → [`ArrayGuard`] (derefs to a [`View`](multiproc_shm::View)) |
//! | `RawValue('d', 1.5)` | [`RawValue::new(1.5f64)`](RawValue::new) |
//! | `RawArray('i', 10)` / `RawArray('i', [1, 2])` | [`RawArray::<i32>::new(10)`](RawArray::new) / [`RawArray::from_slice`] |
//! | `v.value` / `v.value = x` (raw) | [`RawValue::load`] / [`RawValue::store`] |
//! | `arr[i]`, `arr[i] = x`, `arr[:]`, `len(arr)` | `load`/`get`, `store`/`set`, `to_vec`, `len` |
//! | `Array('c', b"hi").value` / `.raw` | [`RawArray::value`] / [`RawArray::raw`] on `u8` arrays |
//! | `c_bool` | [`Bool`] |
//!
//! # Memory model
//!
//! No reference into shared memory is ever handed out: elements are copied in and out with
//! relaxed atomic accesses (see [`multiproc_shm::View`]), and the guards of [`Value`] and
//! [`Array`] work on copies or views while the lock is held. So even a process that ignores the
//! lock can cause lost updates or torn reads, never undefined behaviour.
//!
//! # Examples
//!
//! ```
//! use multiproc_shared::Value;
//!
//! let counter = Value::new(0u64)?;
//! *counter.lock() += 1; // with counter.get_lock(): counter.value += 1
//! assert_eq!(counter.load(), 1);
//! # Ok::<(), multiproc_shared::Error>(())
//! ```
//!
//! ```
//! use multiproc_shared::RawArray;
//!
//! #[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
//! #[repr(C)]
//! struct Point {
//!     x: f64,
//!     y: f64,
//! }
//!
//! let points = RawArray::from_slice(&[Point { x: 1.0, y: 2.0 }, Point { x: 3.0, y: 4.0 }])?;
//! let p = points.load(1);
//! points.store(1, Point { x: p.x * p.x, y: p.y * p.y });
//! assert_eq!(points.load(1), Point { x: 9.0, y: 16.0 });
//! # Ok::<(), multiproc_shared::Error>(())
//! ```
#![doc(test(
    no_crate_inject,
    attr(deny(warnings), allow(dead_code, unused_variables))
))]
#![cfg_attr(multiproc_loom, allow(dead_code, unreachable_pub))]
#![forbid(unsafe_code)]

mod array;
mod bool;
mod chars;
mod error;
mod raw_array;
mod raw_value;
mod shared_lock;
mod value;

pub use array::{Array, ArrayGuard};
pub use bool::Bool;
pub use error::Error;
pub use raw_array::RawArray;
pub use raw_value::RawValue;
pub use shared_lock::SharedLock;
pub use value::{Value, ValueGuard};
