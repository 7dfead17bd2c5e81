//! What the documents users keep beside the code share (the DNS
//! expectations, the suppressions): a refusal that says where, and where
//! each entry of a list starts. A leaf module.

use std::fmt;

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DocumentError {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    pub reason: String,
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.reason),
            (Some(l), None) => write!(f, "line {l}: {}", self.reason),
            _ => f.write_str(&self.reason),
        }
    }
}

/// The 1-based line where each top-level entry starts: `-` items at the
/// first item's indentation in YAML, `{` directly inside the top-level array
/// in JSON. Used to place errors found after parsing (the parsers report
/// those at the list's start).
pub fn entry_lines(text: &str, json: bool) -> Vec<usize> {
    let mut lines = Vec::new();
    if json {
        let (mut depth, mut in_string, mut escaped, mut line) = (0usize, false, false, 1usize);
        for c in text.chars() {
            match c {
                '\n' => line += 1,
                _ if in_string => {}
                '[' | '{' => {
                    depth += 1;
                    if c == '{' && depth == 2 {
                        lines.push(line);
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            } else if c == '"' {
                in_string = true;
            }
        }
    } else {
        let mut indent = None;
        for (i, l) in text.lines().enumerate() {
            let body = l.trim_start();
            if !(body == "-" || body.starts_with("- ")) {
                continue;
            }
            let here = l.len() - body.len();
            if *indent.get_or_insert(here) == here {
                lines.push(i + 1);
            }
        }
    }
    lines
}
