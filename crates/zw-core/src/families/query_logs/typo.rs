//! The name an NXDOMAIN query most likely meant: the nearest existing name
//! by Damerau–Levenshtein distance (optimal string alignment: insertions,
//! deletions, substitutions and transpositions of two adjacent characters,
//! each substring edited once), counted in characters.

/// The farthest a name can be from the one it likely meant.
pub const MAX_TYPO: usize = 2;

/// Damerau–Levenshtein (optimal string alignment) distance between two names, stopping early and returning None once it exceeds `max`.
pub fn distance_within(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    chars_within(&a, &b, max)
}

/// `distance_within` on characters already split (the typo search splits
/// the asked name once, not once per existing name).
fn chars_within(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    // Three rows of the (a.len() + 1) x (b.len() + 1) matrix (i - 2, i - 1
    // and i), computed only within `max` of the diagonal: a cell farther
    // out is more than `max` anyway. Values above `max` are all `far`
    // (max + 1): only whether they exceed `max` matters. No row's minimum
    // is below the previous row's, so once a row's minimum exceeds `max`
    // so does the distance.
    let far = max.saturating_add(1);
    let n = b.len();
    let mut before: Vec<usize> = vec![far; n + 1];
    let mut above: Vec<usize> = (0..=n).map(|j| j.min(far)).collect();
    let mut row: Vec<usize> = vec![far; n + 1];
    for i in 1..=a.len() {
        row.fill(far);
        if let Some(first) = row.first_mut() {
            *first = i.min(far);
        }
        let mut lowest = i.min(far);
        let (lo, hi) = (i.saturating_sub(max).max(1), i.saturating_add(max).min(n));
        for j in lo..=hi {
            let (Some(&ca), Some(&cb)) = (a.get(i - 1), b.get(j - 1)) else {
                continue;
            };
            let at = |v: &[usize], k: usize| v.get(k).copied().unwrap_or(far);
            let mut d = (at(&above, j - 1) + usize::from(ca != cb))
                .min(at(&above, j) + 1)
                .min(at(&row, j - 1) + 1);
            if i > 1 && j > 1 && a.get(i - 2) == Some(&cb) && b.get(j - 2) == Some(&ca) {
                d = d.min(at(&before, j - 2) + 1);
            }
            let d = d.min(far);
            if let Some(cell) = row.get_mut(j) {
                *cell = d;
            }
            lowest = lowest.min(d);
        }
        if lowest > max {
            return None;
        }
        std::mem::swap(&mut before, &mut above);
        std::mem::swap(&mut above, &mut row);
    }
    above.last().copied().filter(|&d| d <= max)
}

/// Among `existing` names (lower case, no trailing dot), the one nearest to `asked` within distance 1..=2 label-aware: compare only names with the same number of labels or one label more/less; ties broken by smaller distance then lexicographic order. None when `asked` is itself in `existing`.
///
/// `asked` is compared as the aggregates keep names: ASCII lower case,
/// without its trailing dot.
pub fn likely_meant<'a>(asked: &str, existing: &'a [String]) -> Option<(&'a str, usize)> {
    let asked = asked.to_ascii_lowercase();
    let asked = asked.strip_suffix('.').unwrap_or(&asked);
    if existing.iter().any(|name| name == asked) {
        return None;
    }
    let labels = label_count(asked);
    let asked_chars: Vec<char> = asked.chars().collect();
    let mut name_chars: Vec<char> = Vec::new();
    let mut best: Option<(&'a str, usize)> = None;
    for name in existing {
        // Cheap bounds first: a name whose length differs by more than
        // MAX_TYPO is farther than that, whatever its characters.
        if name.len().abs_diff(asked.len()) > MAX_TYPO * 4 || label_count(name).abs_diff(labels) > 1
        {
            continue;
        }
        name_chars.clear();
        name_chars.extend(name.chars());
        let Some(d) = chars_within(&asked_chars, &name_chars, MAX_TYPO) else {
            continue;
        };
        if d == 0 {
            continue;
        }
        let better = match best {
            None => true,
            Some((held, held_d)) => (d, name.as_str()) < (held_d, held),
        };
        if better {
            best = Some((name, d));
        }
    }
    best
}

/// The labels of a name without its trailing dot; the root ("") has none.
fn label_count(name: &str) -> usize {
    if name.is_empty() {
        0
    } else {
        name.split('.').count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    /// The whole matrix, no early stop: what `distance_within` must agree with.
    fn osa(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        d[0] = (0..=b.len()).collect();
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                d[i][j] = (d[i - 1][j] + 1)
                    .min(d[i][j - 1] + 1)
                    .min(d[i - 1][j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
                }
            }
        }
        d[a.len()][b.len()]
    }

    #[test]
    fn distances() {
        assert_eq!(distance_within("wwe", "wew", 2), Some(1));
        assert_eq!(
            distance_within("wwww.example.com", "www.example.com", 2),
            Some(1)
        );
        assert_eq!(
            distance_within("ww.example.com", "www.example.com", 2),
            Some(1)
        );
        assert_eq!(distance_within("kitten", "sitting", 3), Some(3));
        assert_eq!(distance_within("kitten", "sitting", 2), None);
        // Optimal string alignment: no edit of a transposed pair.
        assert_eq!(distance_within("ca", "abc", 5), Some(3));
        assert_eq!(distance_within("", "abc", 3), Some(3));
        assert_eq!(distance_within("", "abc", 2), None);
        assert_eq!(distance_within("abc", "", 3), Some(3));
        assert_eq!(distance_within("", "", 0), Some(0));
        assert_eq!(distance_within("é.example", "e.example", 1), Some(1));
        // Stops on a row, not only on lengths.
        assert_eq!(distance_within("abcdef", "uvwxyz", 2), None);
    }

    #[test]
    fn likely_meant_the_nearest_name() {
        let zone = names(&["example.com", "www.example.com", "mail.example.com"]);
        assert_eq!(
            likely_meant("wwww.example.com", &zone),
            Some(("www.example.com", 1))
        );
        assert_eq!(
            likely_meant("ww.example.com", &zone),
            Some(("www.example.com", 1))
        );
        assert_eq!(
            likely_meant("WWW.example.con.", &zone),
            Some(("www.example.com", 1))
        );
        assert_eq!(
            likely_meant("wew.example.com", &names(&["wwe.example.com"])),
            Some(("wwe.example.com", 1))
        );
        assert_eq!(
            likely_meant("api2.example.com", &names(&["www.example.com"])),
            None
        );
        assert_eq!(likely_meant("www.example.com", &zone), None);
        assert_eq!(likely_meant("www.example.com.", &zone), None);
        assert_eq!(likely_meant("anything", &[]), None);
    }

    #[test]
    fn ties_go_to_the_smaller_distance_then_the_name() {
        let zone = names(&[
            "abd.example.com",
            "abc.example.com",
            "xbc.example.com",
            "ab.example.com",
        ]);
        // abx -> abd, abc, ab (1 each); xbc is 2 away.
        assert_eq!(
            likely_meant("abx.example.com", &zone),
            Some(("ab.example.com", 1))
        );
        let zone = names(&["aqq.example.com", "bbc.example.com", "zbx.example.com"]);
        // abx -> aqq (2), bbc (2), zbx (1).
        assert_eq!(
            likely_meant("abx.example.com", &zone),
            Some(("zbx.example.com", 1))
        );
        let zone = names(&["aqq.example.com", "abcc.example.com"]);
        assert_eq!(
            likely_meant("abx.example.com", &zone),
            Some(("abcc.example.com", 2))
        );
    }

    #[test]
    fn only_names_one_label_apart_compare() {
        // "a.b.c" and "abc" are two edits apart but two labels apart too.
        assert_eq!(likely_meant("a.b.c", &names(&["abc"])), None);
        assert_eq!(likely_meant("a.bc", &names(&["abc"])), Some(("abc", 1)));
        assert_eq!(likely_meant("ab", &names(&["a.b.c"])), None);
        assert_eq!(likely_meant("a", &names(&[""])), Some(("", 1)));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            // No regression files: this crate's tree is shared.
            failure_persistence: None,
            ..ProptestConfig::with_cases(512)
        })]

        #[test]
        fn a_name_is_zero_from_itself(a in ".{0,40}", k in 0usize..5) {
            prop_assert_eq!(distance_within(&a, &a, k), Some(0));
        }

        #[test]
        fn distance_is_symmetric_and_agrees_with_the_whole_matrix(
            a in "[abé.]{0,10}",
            b in "[abé.]{0,10}",
            k in 0usize..6,
        ) {
            let d = distance_within(&a, &b, k);
            prop_assert_eq!(d, distance_within(&b, &a, k));
            let full = osa(&a, &b);
            prop_assert_eq!(d, (full <= k).then_some(full));
        }

        #[test]
        fn never_panics_on_unicode(
            a in any::<String>(),
            b in any::<String>(),
            k in any::<usize>(),
            existing in proptest::collection::vec(any::<String>(), 0..8),
        ) {
            let _ = distance_within(&a, &b, k);
            if let Some((name, d)) = likely_meant(&a, &existing) {
                prop_assert!((1..=MAX_TYPO).contains(&d));
                prop_assert!(existing.iter().any(|e| e == name));
            }
        }
    }
}
