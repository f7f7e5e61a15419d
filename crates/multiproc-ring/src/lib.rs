//! multiproc-ring (being built).
