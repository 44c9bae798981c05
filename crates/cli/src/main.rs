//! The `connreq` binary: everything is in the library, see [`connreq_cli::run`].

fn main() {
    // Arguments that are not valid UTF-8 are passed on lossily; clap then rejects them as it would any bad value.
    let args = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    std::process::exit(connreq_cli::run(args));
}
