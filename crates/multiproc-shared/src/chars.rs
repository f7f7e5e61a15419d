//! CPython's `c_char` array semantics, shared by `RawArray<u8>` and `Array<u8>`.

use crate::Error;
use multiproc_shm::View;

/// Bytes up to the first NUL.
pub(crate) fn value(view: View<'_, u8>) -> Vec<u8> {
    view.iter().take_while(|&b| b != 0).collect()
}

/// Writes `bytes`, plus one NUL when there is room (CPython's `c_char` array `.value` setter).
pub(crate) fn set_value(view: View<'_, u8>, bytes: &[u8]) -> Result<(), Error> {
    if bytes.len() > view.len() {
        return Err(Error::TooLong {
            len: bytes.len(),
            capacity: view.len(),
        });
    }
    for (i, &b) in bytes.iter().enumerate() {
        view.store(i, b);
    }
    if bytes.len() < view.len() {
        view.store(bytes.len(), 0);
    }
    Ok(())
}
