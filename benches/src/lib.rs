//! Shared helpers for the multiproc benchmarks.
