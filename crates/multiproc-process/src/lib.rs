//! multiproc-process (being built).
