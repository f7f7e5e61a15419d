//! Shared test helpers of the process tests; the generic ones (watchdog, zombie and fd checks)
//! come from `multiproc-testkit`.
#![allow(dead_code)]

pub(crate) const METHODS: [multiproc_process::StartMethod; 3] = [
    multiproc_process::StartMethod::Fork,
    multiproc_process::StartMethod::Spawn,
    multiproc_process::StartMethod::Forkserver,
];
