//! One-click unsubscribe links (RFC 8058, SPEC §10): a token naming a member
//! and a kind of email, signed with HMAC-SHA256 under a key of the network's
//! own, so that only connreq can make one and nobody can switch off another
//! member's emails by guessing. Tokens are checked in constant time.

use connreq_core::{Error, MemberId, PreferenceKind};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of the signature a token carries (128 bits).
const SIGNATURE: usize = 16;

/// Makes and checks unsubscribe links for one network.
#[derive(Clone)]
pub struct Unsubscribe {
    /// The network's public URL, without a trailing slash.
    base: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for Unsubscribe {
    // The key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unsubscribe").field("base", &self.base).finish_non_exhaustive()
    }
}

impl Unsubscribe {
    /// Links under `public_url` (`https://net.example`), signed with a key
    /// derived from `secret` and the database id (a token of one network is
    /// worthless in another).
    pub fn new(public_url: &str, secret: &[u8], database: &[u8; 16]) -> Result<Self, Error> {
        let base = public_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://"))
            || base.contains(['<', '>', '"', ' '])
        {
            return Err(Error::InvalidInput(format!("the public URL {public_url:?} must be an http(s) URL")));
        }
        if secret.is_empty() {
            return Err(Error::InvalidInput("the unsubscribe secret is empty".into()));
        }
        let mut mac = keyed(secret);
        mac.update(b"connreq unsubscribe links\0");
        mac.update(database);
        Ok(Self { base, key: mac.finalize().into_bytes().to_vec() })
    }

    /// The link that switches `kind` off for `member`.
    pub fn url(&self, member: MemberId, kind: PreferenceKind) -> String {
        format!("{}/v1/unsubscribe/{}", self.base, self.token(member, kind))
    }

    /// The token of a link: `MEMBER.KIND.SIGNATURE`.
    pub fn token(&self, member: MemberId, kind: PreferenceKind) -> String {
        let signature: String = self.sign(member, kind).iter().map(|b| format!("{b:02x}")).collect();
        format!("{}.{}.{signature}", member.0, kind.as_str())
    }

    /// The member and the kind a token names, if it was signed here.
    pub fn verify(&self, token: &str) -> Result<(MemberId, PreferenceKind), Error> {
        let refused = || Error::InvalidInput("this unsubscribe link is not valid".into());
        let mut parts = token.splitn(3, '.');
        let (Some(member), Some(kind), Some(signature)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(refused());
        };
        let member = MemberId(member.parse().map_err(|_| refused())?);
        let kind = PreferenceKind::parse(kind).map_err(|_| refused())?;
        let given = hex(signature).filter(|g| g.len() == SIGNATURE).ok_or_else(refused)?;
        let mut mac = keyed(&self.key);
        mac.update(&member.0.to_be_bytes());
        mac.update(kind.as_str().as_bytes());
        // Compared in constant time.
        mac.verify_truncated_left(&given).map_err(|_| refused())?;
        Ok((member, kind))
    }

    fn sign(&self, member: MemberId, kind: PreferenceKind) -> Vec<u8> {
        let mut mac = keyed(&self.key);
        mac.update(&member.0.to_be_bytes());
        mac.update(kind.as_str().as_bytes());
        mac.finalize().into_bytes()[..SIGNATURE].to_vec()
    }
}

fn keyed(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 2 * SIGNATURE {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> Unsubscribe {
        Unsubscribe::new("https://net.example/", b"secret", &[7; 16]).unwrap()
    }

    #[test]
    fn a_link_names_its_member_and_kind_and_checks_out() {
        let l = links();
        let url = l.url(MemberId(42), PreferenceKind::InvitationReceived);
        assert!(url.starts_with("https://net.example/v1/unsubscribe/42.invitation_received."), "{url}");
        let token = url.rsplit('/').next().unwrap();
        assert_eq!(l.verify(token).unwrap(), (MemberId(42), PreferenceKind::InvitationReceived));
    }

    #[test]
    fn a_changed_member_kind_signature_key_or_network_is_refused() {
        let l = links();
        let token = l.token(MemberId(42), PreferenceKind::All);
        let signature = token.rsplit('.').next().unwrap();
        for forged in [
            format!("43.all.{signature}"),
            format!("42.invitation_received.{signature}"),
            format!("42.all.{}", "0".repeat(32)),
            format!("42.all.{}", &signature[..30]),
            format!("42.all.{signature}00"),
            "42.all".to_owned(),
            "".to_owned(),
            "x.all.00".to_owned(),
        ] {
            assert!(matches!(l.verify(&forged), Err(Error::InvalidInput(_))), "{forged}");
        }
        let other_key = Unsubscribe::new("https://net.example", b"other", &[7; 16]).unwrap();
        let other_network = Unsubscribe::new("https://net.example", b"secret", &[8; 16]).unwrap();
        assert!(other_key.verify(&token).is_err() && other_network.verify(&token).is_err());
        assert!(!format!("{l:?}").contains("secret"));
    }

    #[test]
    fn only_http_urls_make_links() {
        for bad in ["ftp://x", "net.example", "https://x/<script>"] {
            assert!(Unsubscribe::new(bad, b"s", &[0; 16]).is_err(), "{bad}");
        }
        assert!(Unsubscribe::new("https://x", b"", &[0; 16]).is_err());
    }
}
