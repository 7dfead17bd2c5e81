//! The typed reader of `ZW_` settings. A leaf: the configuration sections
//! read their variables through it, and it records which names they read,
//! so the accepted names are exactly the parsed ones (no hand-kept list to
//! forget a new setting in) and a `ZW_` name nobody read is refused: a
//! misspelt knob silently ignored is worse than an error.
//!
//! Parsers read every one of their names on every run, whatever the other
//! values (a read inside `if another is set` would make that name unknown
//! when the other is not); `config`'s tests check it.

use std::collections::{BTreeSet, HashMap};

/// The variables, the names read so far and the problems found in them.
#[derive(Debug)]
pub struct Vars {
    map: HashMap<String, String>,
    read: BTreeSet<&'static str>,
    errors: Vec<String>,
}

impl Vars {
    pub fn new<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            map: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            read: BTreeSet::new(),
            errors: Vec::new(),
        }
    }

    /// The value, trimmed; None when unset or blank.
    pub fn get(&mut self, key: &'static str) -> Option<String> {
        self.read.insert(key);
        self.map
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    pub fn error(&mut self, e: String) {
        self.errors.push(e);
    }

    /// Whether a problem was already reported for `key`.
    pub fn has_error_for(&self, key: &str) -> bool {
        self.errors.iter().any(|e| e.starts_with(key))
    }

    pub fn number(&mut self, key: &'static str, default: u32, min: u32, max: u32) -> u32 {
        match self.get(key) {
            None => default,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (min..=max).contains(&n) => n,
                _ => {
                    self.error(format!(
                        "{key}: `{raw}` is not a whole number from {min} to {max} (default {default})"
                    ));
                    default
                }
            },
        }
    }

    pub fn rate(&mut self, key: &'static str, default: f64, max: f64) -> f64 {
        match self.get(key) {
            None => default,
            Some(raw) => match raw.parse::<f64>() {
                Ok(n) if n > 0.0 && n <= max => n,
                _ => {
                    self.error(format!(
                        "{key}: `{raw}` is not a request rate above 0 and at most {max} per second (default {default})"
                    ));
                    default
                }
            },
        }
    }

    pub fn flag(&mut self, key: &'static str, default: bool) -> bool {
        match self.get(key) {
            None => default,
            Some(raw) => match raw.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => {
                    self.error(format!("{key}: `{raw}` is not true or false"));
                    default
                }
            },
        }
    }

    /// Comma-separated items, blanks dropped; an explicitly empty list (`,`)
    /// is an error, since it can only be a mistake.
    pub fn list(&mut self, key: &'static str) -> Option<Vec<String>> {
        let raw = self.get(key)?;
        let items: Vec<String> = raw
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if items.is_empty() {
            self.error(format!("{key}: `{raw}` lists nothing"));
            return None;
        }
        Some(items)
    }

    /// The `ZW_` names read so far, sorted (the standard AWS variables a
    /// section also reads, such as `AWS_REGION`, are the SDK's, not ours).
    pub fn read_keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.read.iter().copied().filter(|k| k.starts_with("ZW_"))
    }

    /// Ends the reading: every `ZW_` name that no parser read (other than
    /// `ignored`) is refused, then every problem is answered at once.
    pub fn finish(mut self, ignored: &[&str]) -> Result<(), Vec<String>> {
        let mut unknown: Vec<&String> = self
            .map
            .keys()
            .filter(|k| k.starts_with("ZW_"))
            .filter(|k| !self.read.contains(k.as_str()) && !ignored.contains(&k.as_str()))
            .collect();
        unknown.sort();
        // Unknown names first: a misspelt one explains a default below it.
        let known: Vec<&str> = self.read_keys().collect();
        let mut errors: Vec<String> = unknown
            .into_iter()
            .map(|k| format!("{k}: unknown setting (known: {})", known.join(", ")))
            .collect();
        errors.append(&mut self.errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_are_known_and_an_unread_one_is_refused() {
        let mut v = Vars::new([("ZW_A", " 5 "), ("ZW_TYPO", "1"), ("PATH", "/bin")]);
        assert_eq!(v.number("ZW_A", 1, 0, 10), 5);
        assert_eq!(v.get("ZW_B"), None);
        assert_eq!(v.get("PATH").as_deref(), Some("/bin"));
        assert_eq!(v.read_keys().collect::<Vec<_>>(), ["ZW_A", "ZW_B"]);
        let errors = v.finish(&[]).expect_err("ZW_TYPO was never read");
        assert_eq!(
            errors,
            ["ZW_TYPO: unknown setting (known: ZW_A, ZW_B)".to_owned()]
        );
    }

    #[test]
    fn ignored_names_pass_and_value_errors_follow_unknown_names() {
        let mut v = Vars::new([("ZW_N", "x"), ("ZW_BLESS", "1"), ("ZW_L", " , ")]);
        v.number("ZW_N", 1, 0, 10);
        assert_eq!(v.list("ZW_L"), None);
        assert!(v.has_error_for("ZW_N"));
        let errors = v.finish(&["ZW_BLESS"]).expect_err("bad values");
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].starts_with("ZW_N: `x` is not a whole number"),
            "{errors:?}"
        );
        assert!(
            errors[1].starts_with("ZW_L: `,` lists nothing"),
            "{errors:?}"
        );
    }
}
