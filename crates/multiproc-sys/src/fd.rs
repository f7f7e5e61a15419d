//! File descriptors and sockets: socketpairs, `SCM_RIGHTS` fd passing, `poll`, close-on-exec.
