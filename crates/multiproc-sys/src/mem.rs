//! Shared mappings: memfds, POSIX shared memory objects and `MAP_SHARED` mappings.
