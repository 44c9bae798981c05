//! Storage failures in words: sled's errors and panics become `StorageError`
//! messages saying what could not be done and why.

use connreq_core::Error;

pub(crate) fn storage(context: &str) -> impl Fn(sled::Error) -> Error + '_ {
    move |e| {
        let what = match &e {
            sled::Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
                "permission denied (the directory must be writable)".to_owned()
            }
            sled::Error::Io(io) if crate::lock::is_lock_error(io) => {
                "it is open in another process".to_owned()
            }
            sled::Error::Corruption { .. } => format!("the database is damaged ({e})"),
            other => other.to_string(),
        };
        Error::StorageError(format!("{context}: {what}"))
    }
}

pub(crate) fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown failure".to_owned())
}
