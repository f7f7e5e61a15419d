//! multiproc-pipe (being built).
