//! The words members read, in their language. Each locale's messages are a
//! Project Fluent file (`crates/core/locales/<locale>.ftl`) a translator can
//! edit without touching code; the files are compiled into the binary and
//! parsed once. A message missing from a locale falls back to English (a test
//! fails when any is missing).

use crate::kinds::Locale;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;

/// Each locale's message file, as shipped.
pub(crate) const SOURCES: [(Locale, &str); 4] = [
    (Locale::En, include_str!("../locales/en.ftl")),
    (Locale::De, include_str!("../locales/de.ftl")),
    (Locale::Fr, include_str!("../locales/fr.ftl")),
    (Locale::Es, include_str!("../locales/es.ftl")),
];

/// A value a message is given: text as written, or a number (for plurals).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Arg<'a> {
    /// Text, inserted as it is.
    Text(&'a str),
    /// A count.
    Number(u64),
}

/// The parsed message files, one bundle per locale.
pub(crate) struct Texts {
    bundles: Vec<(Locale, FluentBundle<FluentResource>)>,
}

impl Texts {
    /// The texts, parsed on first use.
    pub(crate) fn get() -> &'static Texts {
        static TEXTS: OnceLock<Texts> = OnceLock::new();
        TEXTS.get_or_init(Texts::load)
    }

    fn load() -> Texts {
        let bundles = SOURCES
            .iter()
            .map(|(locale, source)| {
                // The files ship inside the binary and a test parses each one: a
                // syntax error cannot reach a user, and what parses is kept.
                let resource =
                    FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(partial, _)| partial);
                let id = locale.as_str().parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // Names are text as written; the isolation marks Fluent would wrap
                // them in would show up in plain-text emails.
                bundle.set_use_isolating(false);
                let _ = bundle.add_resource(resource);
                (*locale, bundle)
            })
            .collect();
        Texts { bundles }
    }

    fn bundle(&self, locale: Locale) -> &FluentBundle<FluentResource> {
        let found = self.bundles.iter().find(|(l, _)| *l == locale).or_else(|| self.bundles.first());
        // `load` makes one bundle per entry of SOURCES, which is not empty.
        &found.expect("a bundle per locale").1
    }

    /// Message `id` in `locale` (in English when the locale lacks it), with `args`.
    pub(crate) fn format(&self, locale: Locale, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            let value = match *value {
                Arg::Text(t) => FluentValue::from(t),
                Arg::Number(n) => FluentValue::from(n),
            };
            fluent_args.set(*name, value);
        }
        for bundle in [self.bundle(locale), self.bundle(Locale::En)] {
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return bundle.format_pattern(pattern, Some(&fluent_args), &mut errors).into_owned();
            }
        }
        id.to_owned()
    }

    /// Whether `locale`'s own file has message `id`.
    #[cfg(test)]
    pub(crate) fn has(&self, locale: Locale, id: &str) -> bool {
        self.bundles.iter().any(|(l, b)| *l == locale && b.has_message(id))
    }
}

/// The message ids of a message file.
#[cfg(test)]
pub(crate) fn message_ids(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_parses_and_has_every_message_of_every_other() {
        let all: std::collections::BTreeSet<String> =
            SOURCES.iter().flat_map(|(_, s)| message_ids(s)).collect();
        assert!(all.len() >= 20, "{all:?}");
        for (locale, source) in SOURCES {
            if let Err((_, errors)) = FluentResource::try_new(source.to_owned()) {
                panic!("{locale}.ftl does not parse: {errors:?}");
            }
            for id in &all {
                assert!(Texts::get().has(locale, id), "{locale}.ftl has no message {id:?}");
            }
        }
    }

    #[test]
    fn every_supported_locale_has_a_file() {
        for locale in Locale::ALL {
            assert!(SOURCES.iter().any(|(l, _)| l == locale), "{locale}");
        }
    }

    #[test]
    fn text_is_inserted_as_written_and_counts_choose_plurals() {
        let t = Texts::get();
        let name = "Anne-Marie O'Neil & Co <b>";
        let text = t.format(Locale::En, "notification-invitation-received", &[("actor", Arg::Text(name))]);
        assert_eq!(text, format!("{name} wants to connect with you."));
        assert_eq!(
            t.format(Locale::En, "subject-digest", &[("count", Arg::Number(1))]),
            "1 new notification"
        );
        assert_eq!(
            t.format(Locale::De, "subject-digest", &[("count", Arg::Number(3))]),
            "3 neue Benachrichtigungen"
        );
        assert_eq!(t.format(Locale::Fr, "no-such-message", &[]), "no-such-message");
    }
}
