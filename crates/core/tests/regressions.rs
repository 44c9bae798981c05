//! Inputs the fuzz targets (fuzz/) found to break the core, kept as tests.
//! Each names the target that found it.

use connreq_core::state::CancelMark;

/// storage target: a snapshot whose bytes were changed (and its checksum made
/// to match) decoded a request's cancel mark as a byte that names no state;
/// reading the mark indexed past the list of states and panicked inside
/// `Store::check`.
#[test]
fn a_cancel_mark_that_names_no_state_reads_as_none() {
    for byte in 0..=u8::MAX {
        let mark: CancelMark = serde_json::from_str(&byte.to_string()).unwrap();
        let read = mark.get();
        if byte == 0 || byte > 14 {
            assert_eq!(read, None, "mark {byte}");
        } else {
            assert!(read.is_some(), "mark {byte}");
        }
    }
}
