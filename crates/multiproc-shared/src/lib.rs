//! multiproc-shared (being built).
