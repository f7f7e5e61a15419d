//! multiproc-queue (being built).
