//! Both policies' moderation defaults are the ones docs/MODERATION.md
//! documents (and measured): the table under "## Defaults" is read and
//! compared field by field.

use connreq_core::Policy;
use serde_json::{Value, json};

/// `none`, `90 days` or a number, as the table writes them, as the policy's JSON.
fn value(text: &str) -> Value {
    let text = text.trim().trim_matches('`');
    if text == "none" {
        return Value::Null;
    }
    if let Some(days) = text.strip_suffix(" days") {
        let days: u64 = days.parse().expect("a number of days");
        return json!({ "secs": days * 86_400, "nanos": 0 });
    }
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

#[test]
fn both_policies_moderation_defaults_are_the_documented_ones() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/MODERATION.md"))
        .expect("docs/MODERATION.md");
    let section = doc.split("## Defaults").nth(1).expect("a Defaults section").split("\n## ").next().unwrap();
    let rows: Vec<Vec<&str>> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    let (standard, linkedin) = (
        serde_json::to_value(Policy::standard()).unwrap(),
        serde_json::to_value(Policy::linkedin()).unwrap(),
    );
    let mut seen = Vec::new();
    for row in &rows {
        let field = row[0].trim_matches('`');
        assert_eq!(standard[field], value(row[1]), "standard {field}");
        assert_eq!(linkedin[field], value(row[2]), "linkedin {field}");
        seen.push(field);
    }
    for field in [
        "review_withdrawals_same_person",
        "review_window",
        "review_after_reports",
        "restrict_after_reports",
        "review_report_share",
        "review_resends_same_person",
        "review_resends_after_harassment",
        "low_acceptance_min_resolved",
        "low_acceptance_max_rate",
        "burst_per_hour",
    ] {
        assert!(seen.contains(&field), "{field} is documented");
    }
}
