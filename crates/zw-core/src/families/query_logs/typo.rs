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
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    // Three rows of the (a.len() + 1) x (b.len() + 1) matrix: i - 2, i - 1
    // and i, read without indexing. No row's minimum is below the previous
    // row's (each cell comes from the row above at a cost of at least 0, or
    // by a transposition no cheaper than the row above's diagonal), so once
    // a row's minimum exceeds `max` so does the distance.
    let mut before: Vec<usize> = Vec::with_capacity(b.len() + 1);
    let mut above: Vec<usize> = (0..=b.len()).collect();
    let mut row: Vec<usize> = Vec::with_capacity(b.len() + 1);
    let mut prev_a: Option<char> = None;
    for (i, &ca) in a.iter().enumerate() {
        row.clear();
        let mut left = i + 1;
        row.push(left);
        let mut lowest = left;
        let mut prev_b: Option<char> = None;
        for (j, (&cb, pair)) in b.iter().zip(above.windows(2)).enumerate() {
            let &[diagonal, up] = pair else {
                continue;
            };
            let mut d = (diagonal + usize::from(ca != cb)).min(up + 1).min(left + 1);
            if prev_a == Some(cb)
                && prev_b == Some(ca)
                && let Some(t) = j.checked_sub(1).and_then(|k| before.get(k))
            {
                d = d.min(t + 1);
            }
            row.push(d);
            lowest = lowest.min(d);
            left = d;
            prev_b = Some(cb);
        }
        if lowest > max {
            return None;
        }
        std::mem::swap(&mut before, &mut above);
        std::mem::swap(&mut above, &mut row);
        prev_a = Some(ca);
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
    let mut best: Option<(&'a str, usize)> = None;
    for name in existing {
        if label_count(name).abs_diff(labels) > 1 {
            continue;
        }
        let Some(d) = distance_within(asked, name, MAX_TYPO) else {
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
