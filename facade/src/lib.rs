//! multiproc (being built).
