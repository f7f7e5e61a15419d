//! multiproc-shm (being built).
