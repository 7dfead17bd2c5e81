//! The README and `docs/` against the code and template they describe. A
//! new function, crate, template parameter, setting or alarm that is not
//! documented fails here, and so does a documented one that no longer
//! exists; user docs never cite our issue numbers.
//!
//! Every list is derived from the source of truth (the directories, the
//! workspace manifest, `template.yaml`, `Config::known_settings` and the
//! code's own environment reads), never written out here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn template() -> serde_norway::Value {
    serde_norway::from_str(&read("template.yaml")).expect("template.yaml is YAML")
}

/// The text under the `## ` heading whose title starts with `title`, up to
/// the next `## ` heading. Lines inside code fences are never headings
/// (a shell comment such as `## step` stays in its section).
fn section<'a>(doc: &'a str, title: &str) -> &'a str {
    let mut in_fence = false;
    let mut start = None;
    let mut offset = 0;
    for line in doc.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence && trimmed.starts_with("## ") {
            if let Some(s) = start {
                return &doc[s..offset];
            }
            if trimmed["## ".len()..].starts_with(title) {
                start = Some(offset + line.len());
            }
        }
        offset += line.len();
    }
    match start {
        Some(s) => &doc[s..],
        None => panic!("no `## {title}` section"),
    }
}

/// First cells of the section's table rows (header and separator rows
/// included: they hold no setting name, so they add nothing).
fn first_cells(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1))
}

fn zw_names(text: &str) -> BTreeSet<String> {
    let re = regex_lite::Regex::new(r"ZW_[A-Z0-9_]*[A-Z0-9]").expect("regex");
    re.find_iter(text).map(|m| m.as_str().to_owned()).collect()
}

/// Workspace members as `Cargo.toml` lists them (`crates/zw-core`, `tests`, ...).
fn workspace_members() -> Vec<String> {
    let manifest = read("Cargo.toml");
    let list = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list)
        .expect("Cargo.toml has a members list");
    list.split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

/// Every package directory under `dir` (one with a `Cargo.toml`).
fn packages_under(dir: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root().join(dir)).expect(dir) {
        let entry = entry.expect(dir);
        if entry.path().join("Cargo.toml").is_file() {
            found.push(format!("{dir}/{}", entry.file_name().to_string_lossy()));
        }
    }
    found.sort();
    found
}

/// Named in code style, as the README names paths: `` `crates/zw-dns` ``
/// or `` `crates/zw-dns/` `` (never a prefix: `crates/zw-dns-lab` does not
/// name `crates/zw-dns`).
fn names_path(text: &str, path: &str) -> bool {
    text.contains(&format!("`{path}`")) || text.contains(&format!("`{path}/`"))
}

#[test]
fn readme_architecture_names_every_function_crate_and_workspace_member() {
    let readme = read("README.md");
    let architecture = section(&readme, "Architecture");
    let mut expected: BTreeSet<String> = packages_under("functions")
        .into_iter()
        .chain(packages_under("crates"))
        .collect();
    assert!(
        expected.len() >= 18,
        "fewer packages than the workspace has: {expected:?}"
    );
    expected.extend(workspace_members());
    let missing: Vec<&String> = expected
        .iter()
        .filter(|p| !names_path(architecture, p))
        .collect();
    assert!(
        missing.is_empty(),
        "README.md's Architecture section does not name {missing:?} (write each as `path` with one line on what it is)"
    );
}

#[test]
fn every_template_parameter_is_documented_in_docs_template_md() {
    let t = template();
    let parameters = t["Parameters"].as_mapping().expect("Parameters");
    let doc = read("docs/template.md");
    // A row of its own (or of a group of related parameters), not a
    // mention in passing elsewhere in the section.
    let named: String = first_cells(section(&doc, "Parameters")).collect();
    let missing: Vec<&str> = parameters
        .keys()
        .map(|k| k.as_str().expect("parameter name"))
        .filter(|name| !named.contains(&format!("`{name}`")))
        .collect();
    assert!(
        parameters.len() > 40,
        "template.yaml has {} parameters",
        parameters.len()
    );
    assert!(
        missing.is_empty(),
        "docs/template.md's Parameters table has no row for {missing:?}"
    );
}

/// `ZW_` names read straight from the environment outside `Config`
/// (`std::env::var("ZW_...")` in `crates/*/src` and `functions/*/src`).
/// Benches and examples read their own knobs and are not product settings.
fn env_reads_in_source() -> BTreeSet<String> {
    let re = regex_lite::Regex::new(r#"env::var(?:_os)?\(\s*"(ZW_[A-Z0-9_]+)""#).expect("regex");
    let mut names = BTreeSet::new();
    let mut dirs: Vec<PathBuf> = packages_under("crates")
        .into_iter()
        .chain(packages_under("functions"))
        .map(|p| root().join(p).join("src"))
        .collect();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("source dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                names.extend(re.captures_iter(&text).map(|c| c[1].to_owned()));
            }
        }
    }
    names
}

/// Refreshes generated files in tests (`ZW_BLESS=1 cargo test ...`, in the
/// README's Development section); not a setting of the product.
const TEST_ONLY: [&str; 1] = ["ZW_BLESS"];

/// `ZW_` variables the template sets on any resource.
fn template_settings() -> BTreeSet<String> {
    let t = template();
    let mut names = BTreeSet::new();
    for (_, r) in t["Resources"].as_mapping().expect("Resources") {
        if let Some(vars) = r["Properties"]["Environment"]["Variables"].as_mapping() {
            names.extend(
                vars.keys()
                    .filter_map(|k| k.as_str())
                    .filter(|k| k.starts_with("ZW_"))
                    .map(str::to_owned),
            );
        }
    }
    names
}

fn settings_the_code_reads() -> BTreeSet<String> {
    let mut read: BTreeSet<String> = zw_core::Config::known_settings()
        .map(str::to_owned)
        .collect();
    read.extend(env_reads_in_source());
    for t in TEST_ONLY {
        assert!(
            read.remove(t),
            "{t} is no longer read: drop it from TEST_ONLY"
        );
    }
    assert!(read.len() > 40, "{read:?}");
    read
}

fn readme_settings_table() -> BTreeSet<String> {
    let readme = read("README.md");
    first_cells(section(&readme, "Settings"))
        .flat_map(zw_names)
        .collect()
}

#[test]
fn every_setting_the_code_reads_is_in_the_readme_settings_table_and_no_other() {
    let read = settings_the_code_reads();
    let documented = readme_settings_table();
    let undocumented: Vec<&String> = read.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "README.md's Settings table has no row for {undocumented:?}"
    );
    let stale: Vec<&String> = documented.difference(&read).collect();
    assert!(
        stale.is_empty(),
        "README.md's Settings table documents {stale:?}, which no code reads"
    );
}

#[test]
fn the_template_sets_only_settings_the_code_reads() {
    let read = settings_the_code_reads();
    let set = template_settings();
    assert!(set.len() > 20, "{set:?}");
    let dead: Vec<&String> = set.difference(&read).collect();
    assert!(
        dead.is_empty(),
        "template.yaml sets {dead:?}, which no code reads"
    );
}

/// How many `AWS::CloudWatch::Alarm` resources each deployment mode always
/// creates, and how many exist only when an optional feature is on (any
/// other condition, e.g. `HasLicensing`).
#[derive(Debug, PartialEq, Eq)]
struct AlarmCounts {
    single: usize,
    organization: usize,
    optional: usize,
}

fn alarms_in_template() -> AlarmCounts {
    let t = template();
    let mut n = AlarmCounts {
        single: 0,
        organization: 0,
        optional: 0,
    };
    for (_, r) in t["Resources"].as_mapping().expect("Resources") {
        if r["Type"].as_str() != Some("AWS::CloudWatch::Alarm") {
            continue;
        }
        match r["Condition"].as_str() {
            None => {
                n.single += 1;
                n.organization += 1;
            }
            Some("IsSingle") => n.single += 1,
            Some("IsOrganization") => n.organization += 1,
            Some(_) => n.optional += 1,
        }
    }
    n
}

#[test]
fn the_readme_states_the_alarm_count_of_each_mode() {
    let template = alarms_in_template();
    assert!(template.single > 5, "{template:?}");
    let readme = read("README.md");
    let re = regex_lite::Regex::new(
        // Any whitespace between the words: the sentence wraps where it wraps.
        r"\*\*(\d+)\s+alarms\*\*\s+in\s+single\s+mode,\s+\*\*(\d+)\*\*\s+in\s+organization\s+mode(?:,\s+plus\s+\*\*(\d+)\*\*\s+with)?",
    )
    .expect("regex");
    let count = |c: &regex_lite::Captures<'_>, i: usize| -> usize {
        c.get(i).map_or(0, |m| m.as_str().parse().expect("a count"))
    };
    let stated = re
        .captures(&readme)
        .map(|c| AlarmCounts {
            single: count(&c, 1),
            organization: count(&c, 2),
            optional: count(&c, 3),
        })
        .expect(
            "README.md says `**N alarms** in single mode, **M** in organization mode[, plus **K** with <the optional features>]`",
        );
    assert_eq!(
        stated, template,
        "README.md's alarm counts differ from template.yaml's"
    );
}

/// What counts as citing an issue: `issue 6`, `issues 5 and 6`, `issue #6`,
/// `issues/6`, a bare `#6`, "the issue's ...". Not the CAA property
/// (`` `issue` ``), "after issue" (a certificate's issuance), nor DynamoDB
/// keys such as `HISTORY#2026-11-23` (a `#` after a letter or digit).
fn issue_citations(text: &str) -> Vec<String> {
    let patterns = [
        r"(?i)\bissues?[\s/#]*\d+",
        r"(?:^|[\s(\[,;])#\d+\b",
        r"(?i)\b(?:this|the|that|our) issues?(?:'s)?\b",
    ];
    let mut found = Vec::new();
    for p in patterns {
        let re = regex_lite::Regex::new(p).expect("regex");
        for (n, line) in text.lines().enumerate() {
            if let Some(m) = re.find(line) {
                found.push(format!("line {}: {:?} in {line:?}", n + 1, m.as_str()));
            }
        }
    }
    found
}

#[test]
fn user_docs_never_cite_issue_numbers() {
    let mut files = vec!["README.md".to_owned()];
    for entry in std::fs::read_dir(root().join("docs")).expect("docs/") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".md") {
            files.push(format!("docs/{name}"));
        }
    }
    assert!(files.len() > 5, "{files:?}");
    let mut citations = Vec::new();
    for f in &files {
        citations.extend(
            issue_citations(&read(f))
                .into_iter()
                .map(|c| format!("{f} {c}")),
        );
    }
    assert!(
        citations.is_empty(),
        "user docs cite our issues, which a customer cannot read (say what is true instead):\n{}",
        citations.join("\n")
    );
}

/// The citation patterns themselves: they find what they must and leave
/// the legitimate uses alone (so a clean run means something).
#[test]
fn issue_citation_patterns_tell_citations_from_other_uses() {
    for cited in [
        "## Licensing (issue 7)",
        "issues 5 and 6 added",
        "see #17",
        "(#4)",
        "Before issue 10, the",
        "each holding the issue's estate",
        "github.com/x/y/issues/12",
    ] {
        assert!(!issue_citations(cited).is_empty(), "{cited}");
    }
    for fine in [
        "Add `0 issue \"amazon.com\"` to the CAA record set",
        "`exp` (30 days after issue).",
        "'{\":p\":{\"S\":\"HISTORY#2026-11-23\"}}'",
        "chunks G2#00000..G2#k",
        "ACCOUNT#222222222222#FINDING",
        "an ISSUED certificate is issued by Amazon",
    ] {
        assert!(issue_citations(fine).is_empty(), "{fine}");
    }
}
