//! `connreq batch`: many commands, one per line, against one opened database.
//!
//! A line is split like a shell would split it for the simple cases: words
//! separated by spaces, `'single'` and `"double"` quotes, and backslash escapes
//! (`\n` inside double quotes is a newline). Blank lines and lines starting
//! with `#` are skipped. Each line is any database command, without `--db` or
//! `--policy` (the batch has one database).

/// Splits a command line into words.
pub fn split_line(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => word.push('\n'),
                            Some('t') => word.push('\t'),
                            Some(c) => word.push(c),
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("a backslash ends the line".into()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Whether a line holds no command.
pub fn is_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(split_line("send 1 2").unwrap(), ["send", "1", "2"]);
        assert_eq!(
            split_line(r#"send 1 2 --note "Hi \"Bob\",\nnice" --email 'b@x.example'"#).unwrap(),
            ["send", "1", "2", "--note", "Hi \"Bob\",\nnice", "--email", "b@x.example"]
        );
        assert_eq!(split_line("a\\ b ''").unwrap(), ["a b", ""]);
        assert_eq!(split_line("   ").unwrap(), Vec::<String>::new());
        assert!(split_line("send \"oops").is_err());
        assert!(split_line("send 'oops").is_err());
        assert!(split_line("x \\").is_err());
        assert!(is_blank("  # comment") && is_blank("") && !is_blank("stats"));
    }
}
