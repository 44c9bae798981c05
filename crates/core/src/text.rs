//! Text that comes from members: validation and escaping.
//!
//! Notes, messages and names are checked before they are stored; anything shown
//! in a notification or an email is escaped so member text can never add an
//! email header or HTML markup. Bidirectional overrides and isolates are
//! refused: they make text read differently from what it holds (a name that
//! shows as "Ada" and sorts, searches and copies as something else).

use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest email address, in bytes (RFC 5321).
pub const MAX_EMAIL_BYTES: usize = 254;

/// Longest local part of an address, in bytes (RFC 5321).
pub const MAX_LOCAL_BYTES: usize = 64;
/// Longest label of a domain, in bytes.
const MAX_LABEL_BYTES: usize = 63;

/// Characters that show nothing or change how text around them reads:
/// zero-width spaces and joiners, bidirectional controls, tag characters, the
/// byte-order mark, soft hyphens, variation selectors, fillers (Unicode's
/// format characters and the like).
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFFB}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

/// Tag characters (U+E0000–U+E007F): invisible, and able to hide text.
fn is_tag(c: char) -> bool {
    matches!(c, '\u{E0000}'..='\u{E007F}')
}

/// The line and paragraph separators U+2028 and U+2029.
fn is_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

/// A validated email address, one that an SMTP library accepts: a local part
/// of at most 64 bytes (dot-separated words of letters, digits and
/// `!#$%&'*+/=?^_`{|}~-`, or characters beyond ASCII), one `@`, a domain of
/// valid labels (ASCII letters and digits, characters beyond ASCII, inner hyphens), at most 254
/// bytes; no whitespace, control, invisible or format characters, brackets,
/// commas, quotes. Compared after ASCII case folding only (`\u{212a}`, the
/// Kelvin sign, is not `k`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(Box<str>);

impl EmailAddress {
    /// Validates `text` as an email address.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::InvalidInput(format!("email address {:?} {why}", shorten(text)));
        if text.is_empty() {
            return Err(Error::InvalidInput("email address is empty".into()));
        }
        if text.len() > MAX_EMAIL_BYTES {
            return Err(bad(&format!("is longer than {MAX_EMAIL_BYTES} bytes")));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("contains a space or a control character"));
        }
        if text.chars().any(|c| is_invisible(c) || is_separator(c)) {
            return Err(bad("contains an invisible or formatting character"));
        }
        if text.chars().any(|c| matches!(c, '<' | '>' | '(' | ')' | '[' | ']' | ',' | ';' | ':' | '\\' | '"'))
        {
            return Err(bad("contains a bracket, comma, colon, semicolon, backslash or quote"));
        }
        let mut parts = text.split('@');
        let (local, domain) = match (parts.next(), parts.next(), parts.next()) {
            (Some(local), Some(domain), None) if !local.is_empty() && !domain.is_empty() => (local, domain),
            (_, _, Some(_)) => return Err(bad("has more than one @")),
            _ => return Err(bad("needs one @ with text on both sides")),
        };
        if local.len() > MAX_LOCAL_BYTES {
            return Err(bad(&format!("has more than {MAX_LOCAL_BYTES} bytes before the @")));
        }
        let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c) || !c.is_ascii();
        if local.split('.').any(|word| word.is_empty() || !word.chars().all(atext)) {
            return Err(bad("has a part before the @ that is not an address (dots only between words)"));
        }
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.len() <= MAX_LABEL_BYTES
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        };
        if !domain.split('.').all(label_ok) {
            return Err(bad("has a domain that is not made of valid labels"));
        }
        Ok(Self(text.into()))
    }

    /// The address as it was given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for comparisons: ASCII letters lowercased, nothing else changed.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// Whether `text` names this address (ASCII case aside).
    pub fn is(&self, text: &str) -> bool {
        self.0.eq_ignore_ascii_case(text)
    }
}

impl PartialEq for EmailAddress {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}
impl Eq for EmailAddress {}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0.into()
    }
}

/// Whether `c` is a Unicode bidirectional embedding, override or isolate
/// (U+202A–U+202E, U+2066–U+2069): characters that make text display in an
/// order other than the one it is stored in.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The message refusing text that holds a bidirectional control.
fn bidi_refused(what: &str, text: &str) -> Option<Error> {
    text.chars().find(|&c| is_bidi_control(c)).map(|c| {
        Error::InvalidInput(format!(
            "the {what} contains U+{:04X}, a character that changes the direction text is shown in",
            u32::from(c)
        ))
    })
}

/// Checks a note or a withdraw/decline message: at most `max_chars` Unicode
/// scalar values, no control characters other than newline and no
/// bidirectional overrides or isolates.
pub fn check_note(what: &str, text: &str, max_chars: usize) -> Result<(), Error> {
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(Error::NoteTooLong { chars, max: max_chars });
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::InvalidInput(format!(
            "the {what} contains a control character; only line breaks are allowed"
        )));
    }
    bidi_refused(what, text).map_or(Ok(()), Err)
}

/// A note or message that says something: one of only whitespace is no note.
pub fn meaningful(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.trim().is_empty())
}

/// Checks a display name: one line, no control characters, at most
/// [`MAX_NAME_CHARS`] characters, at least one visible character, no line or
/// paragraph separators, tag characters or bidirectional overrides and isolates.
pub fn check_name(text: &str) -> Result<(), Error> {
    if text.trim().is_empty() {
        return Err(Error::InvalidInput("the name is empty".into()));
    }
    if !text.chars().any(|c| !c.is_whitespace() && !is_invisible(c)) {
        return Err(Error::InvalidInput("the name has no visible character".into()));
    }
    if text.chars().any(|c| is_separator(c) || is_tag(c)) {
        return Err(Error::InvalidInput(
            "the name contains a line separator or a hidden tag character".into(),
        ));
    }
    if text.chars().nth(MAX_NAME_CHARS).is_some() {
        return Err(Error::InvalidInput(format!("the name is longer than {MAX_NAME_CHARS} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(Error::InvalidInput("the name contains a line break or a control character".into()));
    }
    bidi_refused("name", text).map_or(Ok(()), Err)
}

/// Member text as it may be shown on a terminal: each bidirectional override
/// or isolate (which text stored before they were refused may hold) is
/// written as its escape, `\u{202e}`, so it cannot reorder what follows.
/// Text without one is returned as it is.
pub fn show_bidi(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_bidi_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_bidi_control(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Escapes member text for an email or notification: HTML metacharacters
/// become entities, and any carriage return or other control character that
/// could start a header becomes a space (validated text has none, this is a
/// second wall).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push('\n'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a one-line header such as an email subject: as [`escape`],
/// and line breaks become spaces.
pub fn escape_line(text: &str) -> String {
    escape(text).replace('\n', " ")
}

/// The first 40 characters of `text`, for error messages about long input.
pub(crate) fn shorten(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if text.chars().nth(40).is_some() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_validated() {
        assert!(EmailAddress::parse("ada@example.com").is_ok());
        for bad in ["", "ada", "ada@", "@example.com", "a@b@c", "a b@c", "a\n@b", "a\u{7}@b"] {
            assert!(matches!(EmailAddress::parse(bad), Err(Error::InvalidInput(_))), "{bad:?} was accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long).is_err());
        // 254 bytes: the longest local part (64) and a domain of labels of at most 63.
        let just_fits =
            format!("{}@{}.{}.{}", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(61));
        assert_eq!(just_fits.len(), 254);
        assert!(EmailAddress::parse(&just_fits).is_ok());
        assert!(EmailAddress::parse(&format!("{}@b", "a".repeat(65))).is_err());
    }

    #[test]
    fn email_addresses_compare_case_insensitively() {
        assert_eq!(
            EmailAddress::parse("Ada@Example.COM").unwrap(),
            EmailAddress::parse("ada@example.com").unwrap()
        );
    }

    /// SPEC §18: ASCII case folding only, and only addresses a mailer accepts.
    #[test]
    fn addresses_that_deceive_are_refused_and_compared_without_unicode_folding() {
        let kelvin = EmailAddress::parse("\u{212a}ate@x.com").unwrap();
        assert_ne!(kelvin, EmailAddress::parse("KATE@x.com").unwrap());
        assert!(!kelvin.is("kate@x.com"));
        assert_ne!(kelvin.key(), "kate@x.com");
        for bad in [
            "x<evil@e.com>",
            "\u{200b}@\u{200b}",
            "a\u{200b}b@example.com",
            "a@exa\u{200d}mple.com",
            "a,b@example.com",
            "a@[127.0.0.1]",
            "\"quoted\"@example.com",
            "a..b@example.com",
            ".a@example.com",
            "a.@example.com",
            "a@-example.com",
            "a@example-.com",
            "a@example..com",
            "a@exam_ple.com",
            "a\u{2028}@example.com",
            "a\u{202e}@example.com",
            "a\u{e0041}@example.com",
            "a;b@example.com",
            "a(b)@example.com",
        ] {
            assert!(matches!(EmailAddress::parse(bad), Err(Error::InvalidInput(_))), "{bad:?} was accepted");
        }
        for good in [
            "ada@example.com",
            "a.b+tag@sub.example.co.uk",
            "o'neil@example.com",
            "j\u{f6}rg@b\u{fc}cher.de",
            "\u{7528}\u{6237}@\u{4f8b}\u{5b50}.\u{5e7f}\u{544a}",
            "user@localhost",
            "x@b",
        ] {
            assert!(EmailAddress::parse(good).is_ok(), "{good:?} was refused");
        }
        // Internationalised addresses compare exactly apart from ASCII case.
        let jorg = EmailAddress::parse("J\u{f6}rg@B\u{fc}cher.de").unwrap();
        assert!(jorg.is("j\u{f6}rg@b\u{fc}cher.de"));
        assert!(!jorg.is("j\u{d6}rg@b\u{fc}cher.de"));
    }

    #[test]
    fn names_must_show_something_and_hold_no_separators_tags_or_direction_changes() {
        for bad in [
            "\u{200b}",
            " \u{200b}\u{200d} ",
            "\u{feff}",
            "Ada\u{2028}Admin",
            "Ada\u{2029}",
            "Ada\u{e0041}",
            "Ada\u{202e}nimda",
        ] {
            assert!(matches!(check_name(bad), Err(Error::InvalidInput(_))), "{bad:?} was accepted");
        }
        for good in ["Ada", "Zo\u{eb}", "\u{674e}\u{5c0f}\u{9f99}", "Ren\u{e9}e O'Neil-Smith"] {
            assert!(check_name(good).is_ok(), "{good:?} was refused");
        }
    }

    #[test]
    fn a_note_of_only_whitespace_is_no_note() {
        assert_eq!(meaningful(Some("  \n\t ")), None);
        assert_eq!(meaningful(Some("")), None);
        assert_eq!(meaningful(Some(" hi ")), Some(" hi "));
        assert_eq!(meaningful(None), None);
    }

    #[test]
    fn notes_count_unicode_scalar_values() {
        assert!(check_note("note", &"é".repeat(300), 300).is_ok());
        assert_eq!(
            check_note("note", &"é".repeat(301), 300),
            Err(Error::NoteTooLong { chars: 301, max: 300 })
        );
        assert!(check_note("note", "line one\nline two", 300).is_ok());
        assert!(matches!(check_note("note", "a\rb", 300), Err(Error::InvalidInput(_))));
        assert!(matches!(check_note("note", "a\u{0}b", 300), Err(Error::InvalidInput(_))));
    }

    #[test]
    fn names_are_one_line() {
        assert!(check_name("Ada Lovelace").is_ok());
        assert!(check_name("Ada\nBcc: x@y").is_err());
        assert!(check_name("   ").is_err());
        assert!(check_name(&"x".repeat(201)).is_err());
        assert!(check_name(&"x".repeat(200)).is_ok());
    }

    /// Every bidirectional embedding, override and isolate.
    const BIDI: [char; 9] = [
        '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}',
        '\u{2069}',
    ];

    #[test]
    fn bidirectional_controls_are_refused_in_names_notes_and_messages() {
        for c in BIDI {
            let text = format!("Ada{c}moc.evil");
            for (what, result) in [
                ("name", check_name(&text)),
                ("note", check_note("note", &text, 300)),
                ("message", check_note("message", &text, 300)),
            ] {
                match result {
                    Err(Error::InvalidInput(m)) => {
                        assert!(m.contains(what) && m.contains(&format!("U+{:04X}", u32::from(c))), "{m}")
                    }
                    other => panic!("{what} with U+{:04X} gave {other:?}", u32::from(c)),
                }
            }
        }
        // Their neighbours stay allowed: marks that only hint a direction, and other scripts.
        for ok in ["\u{200e}left-to-right mark", "שלום", "مرحبا"] {
            assert!(check_name(ok).is_ok(), "{ok:?}");
            assert!(check_note("note", ok, 300).is_ok(), "{ok:?}");
        }
        assert!(!is_bidi_control('\u{2029}') && !is_bidi_control('\u{206a}') && !is_bidi_control('\u{2065}'));
    }

    #[test]
    fn shown_text_writes_bidirectional_controls_as_escapes() {
        assert!(matches!(show_bidi("plain text"), Cow::Borrowed("plain text")));
        assert_eq!(show_bidi("Ada\u{202e}moc.evil"), "Ada\\u{202e}moc.evil");
        let all: String = BIDI.iter().collect();
        let shown = show_bidi(&all);
        assert!(!shown.chars().any(is_bidi_control), "{shown}");
        assert_eq!(shown.matches("\\u{").count(), BIDI.len());
    }

    #[test]
    fn escaping_removes_markup_and_headers() {
        assert_eq!(escape("<b>hi</b> & 'x'"), "&lt;b&gt;hi&lt;/b&gt; &amp; &#39;x&#39;");
        assert_eq!(escape_line("a\r\nBcc: x"), "a  Bcc: x");
    }
}
