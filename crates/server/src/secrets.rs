//! The two secrets of a server: the service key (`CONNREQ_API_KEY`) and the
//! member-token secret (`CONNREQ_TOKEN_SECRET`). Each comes from the
//! environment or, when the environment gives none, from `PATH.secrets`
//! beside the database, created on first start with mode 0600 (its name is
//! logged, never its contents).

use std::io::Write;
use std::path::{Path, PathBuf};

/// The environment variable holding the service key.
pub const API_KEY_VAR: &str = "CONNREQ_API_KEY";
/// The environment variable holding the member-token secret.
pub const TOKEN_SECRET_VAR: &str = "CONNREQ_TOKEN_SECRET";

/// The secrets a server checks credentials with.
#[derive(Clone)]
pub struct Secrets {
    /// The service key: may act as any member and call every endpoint.
    pub api_key: String,
    /// The HS256 secret of member tokens.
    pub token_secret: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

/// Where the secrets of the database at `db` are kept: `<db>.secrets`.
pub fn secrets_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".secrets");
    PathBuf::from(name)
}

/// 32 random bytes as 64 hex digits.
pub fn random_secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("cannot draw a random secret: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn from_env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

/// What a secrets file holds: the service key and the token secret, each if present.
type FileSecrets = (Option<String>, Option<String>);

fn read_file(path: &Path) -> Result<Option<FileSecrets>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let (mut key, mut secret) = (None, None);
    for line in text.lines() {
        if let Some(v) = line.strip_prefix(&format!("{API_KEY_VAR}=")) {
            key = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix(&format!("{TOKEN_SECRET_VAR}=")) {
            secret = Some(v.trim().to_owned());
        }
    }
    Ok(Some((key, secret)))
}

fn write_file(path: &Path, secrets: &Secrets) -> Result<(), String> {
    let shown = path.display();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| format!("cannot create {shown}: {e}"))?;
    let text = format!(
        "# connreq serve: the service key and the member-token secret of {}\n{API_KEY_VAR}={}\n{TOKEN_SECRET_VAR}={}\n",
        path.with_extension("").display(),
        secrets.api_key,
        secrets.token_secret
    );
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {shown}: {e}"))
}

/// Where the secrets came from, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Both from the environment.
    Environment,
    /// At least one from this file, which already existed.
    File(PathBuf),
    /// At least one from this file, created now.
    Created(PathBuf),
}

/// The secrets for the database at `db`: the environment's, else the file's;
/// the file is created when it does not exist and the environment lacks one.
pub fn load_or_create(db: &Path) -> Result<(Secrets, Source), String> {
    let (env_key, env_secret) = (from_env(API_KEY_VAR), from_env(TOKEN_SECRET_VAR));
    if let (Some(api_key), Some(token_secret)) = (env_key.clone(), env_secret.clone()) {
        return Ok((Secrets { api_key, token_secret }, Source::Environment));
    }
    let path = secrets_path(db);
    match read_file(&path)? {
        Some((key, secret)) => {
            let api_key =
                env_key.or(key).ok_or_else(|| format!("{} holds no {API_KEY_VAR}", path.display()))?;
            let token_secret = env_secret
                .or(secret)
                .ok_or_else(|| format!("{} holds no {TOKEN_SECRET_VAR}", path.display()))?;
            Ok((Secrets { api_key, token_secret }, Source::File(path)))
        }
        None => {
            let made = Secrets { api_key: random_secret()?, token_secret: random_secret()? };
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            write_file(&path, &made)?;
            let secrets = Secrets {
                api_key: env_key.unwrap_or(made.api_key),
                token_secret: env_secret.unwrap_or(made.token_secret),
            };
            Ok((secrets, Source::Created(path)))
        }
    }
}

/// The member-token secret for minting tokens (`connreq token`): the
/// environment's, else the one in the secrets file beside `db`.
pub fn token_secret(db: &Path) -> Result<String, String> {
    if let Some(s) = from_env(TOKEN_SECRET_VAR) {
        return Ok(s);
    }
    let path = secrets_path(db);
    match read_file(&path)? {
        Some((_, Some(secret))) => Ok(secret),
        _ => Err(format!(
            "no token secret: set {TOKEN_SECRET_VAR}, or start `connreq serve` once so it creates {}",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_secrets_differ_and_are_hex() {
        let (a, b) = (random_secret().unwrap(), random_secret().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let s = Secrets { api_key: "k3y".into(), token_secret: "s3cret".into() };
        let shown = format!("{s:?}");
        assert!(!shown.contains("k3y") && !shown.contains("s3cret"));
    }
}
