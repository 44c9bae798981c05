//! Storage failures in words: sled's errors and panics become `StorageError`
//! messages saying what could not be done and why, never sled's debug output
//! (`Corruption { at: Some(Inline(9962286)), bt: () }` is shown as "the
//! database is damaged: sled found bytes that fail their checksum at byte
//! 9962286 of its file `db`").

use connreq_core::Error;

/// What to tell the user to do about a damaged database.
pub(crate) const REPAIR_HINT: &str =
    "run `connreq repair` (Network.repair() in Python) to rebuild it from what can still be trusted";

/// sled's error `e` in words.
pub(crate) fn sled_words(e: &sled::Error) -> String {
    match e {
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            "permission denied (the directory must be writable)".to_owned()
        }
        sled::Error::Io(io) if crate::lock::is_lock_error(io) => "it is open in another process".to_owned(),
        sled::Error::Io(io) => io_words(io),
        sled::Error::Corruption { at, .. } => {
            let place = match at {
                Some(sled::DiskPtr::Inline(offset)) => format!(" at byte {offset} of its file `db`"),
                Some(sled::DiskPtr::Blob(_, blob)) => format!(" in its blob file {blob}"),
                None => String::new(),
            };
            format!("the database is damaged: sled found bytes that fail their checksum{place}")
        }
        sled::Error::CollectionNotFound(name) => {
            format!("the database is damaged: its part {:?} is missing", String::from_utf8_lossy(name))
        }
        sled::Error::Unsupported(what) => format!("sled does not support this: {}", plain(what)),
        sled::Error::ReportableBug(what) => format!("sled failed inside: {}", plain(what)),
    }
}

/// An I/O error in words: the operating system's message, or the kind of
/// failure when the error carries something else.
pub(crate) fn io_words(io: &std::io::Error) -> String {
    if io.raw_os_error().is_some() { io.to_string() } else { plain(&io.to_string()) }
}

/// `text` if it reads as words, else a plain description: sled's messages
/// sometimes embed debug output of its internals.
fn plain(text: &str) -> String {
    let debug_like = ["Some(", "None", "Inline(", "Blob(", "backtrace", "{", "}", "::"];
    if text.trim().is_empty() || debug_like.iter().any(|d| text.contains(d)) {
        "an internal error of the storage engine".to_owned()
    } else {
        text.to_owned()
    }
}

/// Turns a sled error into `StorageError("{context}: {words}")`.
pub(crate) fn storage(context: &str) -> impl Fn(sled::Error) -> Error + '_ {
    move |e| Error::StorageError(format!("{context}: {}", sled_words(&e)))
}

/// The text of a caught panic, in words: a panic inside sled or while applying
/// a damaged record says nothing a user can act on beyond "damaged", so debug
/// output in it is replaced.
pub(crate) fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    let text = p
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    let debug_like = ["Some(", "Inline(", "backtrace", "{", "}", "::", "Err(", "Ok("];
    if text.trim().is_empty() || debug_like.iter().any(|d| text.contains(d)) {
        "its contents contradict each other".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_debug_output(text: &str) {
        for bad in ["Inline(", "backtrace", "Some(", "None", "bt:", "Corruption {"] {
            assert!(!text.contains(bad), "{text:?} holds {bad:?}");
        }
    }

    #[test]
    fn sled_errors_read_as_words() {
        let cases = [
            (sled::Error::Corruption { at: Some(sled::DiskPtr::Inline(9_962_286)), bt: () }, "byte 9962286"),
            (sled::Error::Corruption { at: None, bt: () }, "damaged"),
            (sled::Error::CollectionNotFound(sled::IVec::from(&b"log"[..])), "\"log\" is missing"),
            (sled::Error::ReportableBug("Some(Inline(1)) backtrace ()".into()), "internal error"),
            (sled::Error::Unsupported("deleting the default tree".into()), "deleting the default tree"),
            (sled::Error::Io(std::io::Error::other("encountered torn segment")), "torn segment"),
            (
                sled::Error::Io(std::io::Error::other(format!(
                    "corruption encountered: {:?}",
                    sled::Error::Corruption { at: None, bt: () }
                ))),
                "internal error",
            ),
            (sled::Error::Io(std::io::Error::from_raw_os_error(28)), "No space left on device"),
        ];
        for (error, expected) in cases {
            let message = storage("cannot read the event log")(error).to_string();
            assert!(message.contains(expected), "{message}");
            no_debug_output(&message);
        }
    }

    #[test]
    fn panics_read_as_words() {
        let from_sled: Box<dyn std::any::Any + Send> = Box::new(
            "called `Result::unwrap()` on an `Err` value: Corruption { at: None, bt: () }".to_owned(),
        );
        no_debug_output(&panic_text(&*from_sled));
        let plain: Box<dyn std::any::Any + Send> = Box::new("tried to serialize Uninitialized");
        assert_eq!(panic_text(&*plain), "tried to serialize Uninitialized");
    }
}
