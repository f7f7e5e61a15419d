//! What a worker runs: task functions, star-call adapters and initializers.

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The bound on task arguments and results: they cross a process boundary.
///
/// Implemented for every `Serialize + DeserializeOwned + Send + 'static` type; values holding
/// OS handles (a `Connection`, a `SharedMemory`, a lock) travel too.
///
/// # Examples
///
/// ```
/// fn takes<T: multiproc_pool::Data>() {}
/// takes::<(String, Vec<u64>)>();
/// ```
pub trait Data: Serialize + DeserializeOwned + Send + 'static {}

impl<T: Serialize + DeserializeOwned + Send + 'static> Data for T {}

/// A function a pool may run: `Fn(A) -> R`, cloneable and shareable.
///
/// `fn` items and closures qualify. Under the spawn and forkserver start methods the function
/// must be a `fn` item or a closure that captures nothing (it is found again in the new
/// program by its type); under fork any closure works.
///
/// # Examples
///
/// ```
/// fn square(x: u64) -> u64 { x * x }
/// fn takes<F: multiproc_pool::TaskFn<u64, u64>>(_: F) {}
/// takes(square);
/// ```
pub trait TaskFn<A, R>: Fn(A) -> R + Clone + Send + Sync + 'static {}

impl<F: Fn(A) -> R + Clone + Send + Sync + 'static, A, R> TaskFn<A, R> for F {}

/// A function of several arguments called with a tuple: what
/// [`Pool::starmap`](crate::Pool::starmap) runs (Python's `f(*args)`).
///
/// Implemented for `Fn(A) -> R` with `(A,)`, `Fn(A, B) -> R` with `(A, B)`, and so on up to
/// six arguments.
///
/// # Examples
///
/// ```
/// use multiproc_pool::StarFn;
///
/// fn add(a: i32, b: i32) -> i32 { a + b }
/// assert_eq!(add.call_star((2, 3)), 5);
/// ```
pub trait StarFn<Args>: Clone + Send + Sync + 'static {
    /// The function's result.
    type Output;

    /// Calls the function with the tuple's fields as arguments.
    ///
    /// # Examples
    ///
    /// See [`StarFn`].
    fn call_star(&self, args: Args) -> Self::Output;
}

macro_rules! star_fn {
    ($($t:ident $v:ident),+) => {
        impl<Fun, Out, $($t),+> StarFn<($($t,)+)> for Fun
        where
            Fun: Fn($($t),+) -> Out + Clone + Send + Sync + 'static,
        {
            type Output = Out;
            fn call_star(&self, ($($v,)+): ($($t,)+)) -> Out {
                self($($v),+)
            }
        }
    };
}

star_fn!(A a);
star_fn!(A a, B b);
star_fn!(A a, B b, C c);
star_fn!(A a, B b, C c, D d);
star_fn!(A a, B b, C c, D d, E e);
star_fn!(A a, B b, C c, D d, E e, G g);

/// Code each worker runs once when it starts (Python's `initializer` and `initargs`).
///
/// [`NoInit`] runs nothing; [`PoolBuilder::initializer`](crate::PoolBuilder::initializer)
/// makes an [`InitFn`].
///
/// # Examples
///
/// ```
/// use multiproc_pool::{Initializer, NoInit};
/// NoInit.initialize(());
/// ```
pub trait Initializer: Clone + Send + Sync + 'static {
    /// The arguments, sent to every worker.
    type Args: Data + Clone + Sync;

    /// Runs the initializer in a worker.
    ///
    /// # Examples
    ///
    /// See [`Initializer`].
    fn initialize(&self, args: Self::Args);
}

/// The initializer that does nothing (the default).
///
/// # Examples
///
/// ```
/// let pool: multiproc_pool::Pool<multiproc_pool::NoInit> = multiproc_pool::Pool::new(1)?;
/// # Ok::<(), multiproc_pool::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoInit;

impl Initializer for NoInit {
    type Args = ();
    fn initialize(&self, (): ()) {}
}

/// An initializer made of a function and the type of its arguments.
///
/// # Examples
///
/// ```
/// use multiproc_pool::{InitFn, Initializer};
///
/// fn setup(level: u8) { assert!(level < 10); }
/// InitFn::new(setup).initialize(3);
/// ```
pub struct InitFn<F, I> {
    f: F,
    _args: PhantomData<fn(I)>,
}

impl<F, I> InitFn<F, I> {
    /// Wraps `f`.
    ///
    /// # Examples
    ///
    /// See [`InitFn`].
    pub fn new(f: F) -> Self {
        Self {
            f,
            _args: PhantomData,
        }
    }
}

impl<F: Clone, I> Clone for InitFn<F, I> {
    fn clone(&self) -> Self {
        Self::new(self.f.clone())
    }
}

impl<F, I> fmt::Debug for InitFn<F, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InitFn").finish_non_exhaustive()
    }
}

impl<F, I> Initializer for InitFn<F, I>
where
    F: Fn(I) + Clone + Send + Sync + 'static,
    I: Data + Clone + Sync,
{
    type Args = I;
    fn initialize(&self, args: I) {
        (self.f)(args)
    }
}

/// A task as the worker loop sees it: one argument in, one result out.
pub(crate) trait Task: Clone + Send + Sync + 'static {
    type Arg: Data;
    type Out: Data;
    fn run(&self, arg: Self::Arg) -> Self::Out;
}

/// `f(a)`.
pub(crate) struct MapTask<F, A, R> {
    f: F,
    _t: PhantomData<fn(A) -> R>,
}

impl<F, A, R> MapTask<F, A, R> {
    pub(crate) fn new(f: F) -> Self {
        Self { f, _t: PhantomData }
    }
}

impl<F: Clone, A, R> Clone for MapTask<F, A, R> {
    fn clone(&self) -> Self {
        Self::new(self.f.clone())
    }
}

impl<F, A, R> Task for MapTask<F, A, R>
where
    F: TaskFn<A, R>,
    A: Data,
    R: Data,
{
    type Arg = A;
    type Out = R;
    fn run(&self, arg: A) -> R {
        (self.f)(arg)
    }
}

/// `f(*args)`.
pub(crate) struct StarTask<F, Args> {
    f: F,
    _t: PhantomData<fn(Args)>,
}

impl<F, Args> StarTask<F, Args> {
    pub(crate) fn new(f: F) -> Self {
        Self { f, _t: PhantomData }
    }
}

impl<F: Clone, Args> Clone for StarTask<F, Args> {
    fn clone(&self) -> Self {
        Self::new(self.f.clone())
    }
}

impl<F, Args> Task for StarTask<F, Args>
where
    F: StarFn<Args>,
    F::Output: Data,
    Args: Data,
{
    type Arg = Args;
    type Out = F::Output;
    fn run(&self, arg: Args) -> F::Output {
        self.f.call_star(arg)
    }
}
