//! multiproc-sync (being built).
