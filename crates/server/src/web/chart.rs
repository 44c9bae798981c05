//! The outcome funnel as SVG, drawn on the server: one bar per stage, its
//! width in proportion to the first, with the count and its share written
//! beside it. Colours are attributes, not styles, so the page's CSP holds.

use maud::{Markup, html};

/// The chart's width in SVG units.
const WIDTH: u64 = 640;
/// Where bars start (labels are to their left).
const LEFT: u64 = 180;
/// The longest bar.
const BAR: u64 = 340;
/// One stage's height, bar and gap.
const ROW: u64 = 44;

/// A funnel of `stages` (label, count), titled `title`.
pub fn funnel(title: &str, stages: &[(&str, u64)]) -> Markup {
    let first = stages.first().map_or(0, |s| s.1);
    let height = ROW * stages.len() as u64 + 8;
    let colours = ["#1d4ed8", "#2563eb", "#3b82f6", "#60a5fa", "#93c5fd"];
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {height}"))
            role="img" aria-labelledby="funnel-title" {
            title #funnel-title { (title) }
            @for (i, (label, n)) in stages.iter().enumerate() {
                @let y = ROW * i as u64 + 4;
                @let width = if first == 0 { 0 } else { (BAR * n).div_ceil(first).min(BAR) };
                @let share = if first == 0 { 0.0 } else { *n as f64 * 100.0 / first as f64 };
                text x=(LEFT - 12) y=(y + 22) text-anchor="end" fill="#111827" font-size="15" { (label) }
                rect x=(LEFT) y=(y) width=(width.max(2)) height="32" rx="4" fill=(colours[i % colours.len()]) {}
                text x=(LEFT + width.max(2) + 10) y=(y + 22) fill="#111827" font-size="15" {
                    (n) @if i > 0 { " (" (format!("{share:.1}")) "%)" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_in_proportion_to_the_first_stage() {
        let svg = funnel("Outcomes", &[("Sent", 200), ("Answered", 100), ("Accepted", 50)]).into_string();
        assert!(svg.contains(r#"width="340""#), "{svg}");
        assert!(svg.contains(r#"width="170""#), "{svg}");
        assert!(svg.contains(r#"width="85""#), "{svg}");
        assert!(svg.contains("50 (25.0%)"), "{svg}");
        let empty = funnel("Outcomes", &[("Sent", 0), ("Accepted", 0)]).into_string();
        assert!(empty.contains(r#"width="2""#), "{empty}");
    }
}
