//! Member tokens: JWTs signed with HS256, claims `sub` (the member id as a
//! string), `exp` (seconds since the epoch) and, for moderators,
//! `role: "moderator"` (SPEC §12).

use connreq_core::MemberId;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The claims of a member token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The member id, as a string.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// `"moderator"` for a moderator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// Who a valid token names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenHolder {
    /// The member.
    pub member: MemberId,
    /// Whether the token carries the moderator role.
    pub moderator: bool,
}

/// Mints a token for `member`, valid for `ttl` from `now_secs`.
pub fn mint(
    secret: &str,
    member: MemberId,
    ttl: Duration,
    moderator: bool,
    now_secs: u64,
) -> Result<String, String> {
    let claims = Claims {
        sub: member.0.to_string(),
        exp: now_secs.saturating_add(ttl.as_secs()),
        role: moderator.then(|| "moderator".to_owned()),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| format!("cannot mint a token: {e}"))
}

/// Checks a token's signature (HS256 only), expiry and subject.
pub fn verify(secret: &str, token: &str) -> Result<TokenHolder, String> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let data =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation)
            .map_err(|e| format!("the token is not valid: {e}"))?;
    let member =
        data.claims.sub.parse::<u64>().map_err(|_| "the token's subject is not a member id".to_owned())?;
    let moderator = match data.claims.role.as_deref() {
        None => false,
        Some("moderator") => true,
        Some(_) => return Err("the token's role is unknown".into()),
    };
    Ok(TokenHolder { member: MemberId(member), moderator })
}

/// Seconds since the epoch, now.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_verifies_and_names_its_member() {
        let t = mint("s", MemberId(7), Duration::from_secs(60), true, now_secs()).unwrap();
        assert_eq!(verify("s", &t), Ok(TokenHolder { member: MemberId(7), moderator: true }));
        assert!(verify("other", &t).is_err());
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused() {
        let old = mint("s", MemberId(7), Duration::from_secs(1), false, now_secs() - 3600).unwrap();
        assert!(verify("s", &old).is_err());
        let good = mint("s", MemberId(7), Duration::from_secs(60), false, now_secs()).unwrap();
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let evil = Claims { sub: "8".into(), exp: now_secs() + 60, role: None };
        parts[1] = jsonwebtoken::encode(&Header::default(), &evil, &EncodingKey::from_secret(b"x"))
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap()
            .to_owned();
        assert!(verify("s", &parts.join(".")).is_err());
        assert!(verify("s", "not.a.token").is_err());
        // `alg: none` is never accepted.
        assert!(verify("s", "eyJhbGciOiJub25lIn0.eyJzdWIiOiI3IiwiZXhwIjo5OTk5OTk5OTk5fQ.").is_err());
    }
}
