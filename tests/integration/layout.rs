//! The module graph of `zw-core` and `zw-cli` has no cycle
//! (docs/architecture.md): each top-level module's `crate::` references,
//! read from the sources, must point one way. A cycle would mean the shared
//! tail knows a family, or a helper knows the command that calls it.
//!
//! The reading is deliberately simple: a file's tests (from its first
//! `#[cfg(test)] mod`) and comment lines are left out, and modules that
//! exist only under `#[cfg(test)]` in the crate root are not in the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The top-level module a source file belongs to (`families/dns.rs` ->
/// `families`), or None for the crate root.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

/// The code of a file without its tests and comment lines.
fn code_of(text: &str) -> String {
    let mut end = text.len();
    let mut from = 0;
    while let Some(i) = text[from..].find("#[cfg(test)]") {
        let at = from + i;
        if text[at + "#[cfg(test)]".len()..]
            .trim_start()
            .starts_with("mod ")
        {
            end = at;
            break;
        }
        from = at + 1;
    }
    text[..end]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_at(s: &str) -> Option<&str> {
    let n = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    let id = &s[..n];
    (!id.is_empty() && !id.starts_with(|c: char| c.is_ascii_digit())).then_some(id)
}

/// Every top-level module a piece of code names through `crate::`, grouped
/// imports (`use crate::{a, b::C}`) included.
fn references(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // The names at the group's first level.
            let mut depth = 0;
            let mut start = true;
            for (k, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        start = true;
                        continue;
                    }
                    c if c.is_whitespace() => continue,
                    _ => {}
                }
                if start
                    && depth == 0
                    && let Some(id) = ident_at(&group[k..])
                {
                    out.insert(id.to_owned());
                }
                start = false;
            }
        } else if let Some(id) = ident_at(after) {
            out.insert(id.to_owned());
        }
        rest = after;
    }
    out
}

/// Modules the crate root declares only for tests.
fn test_only_modules(root: &str) -> BTreeSet<String> {
    let lines: Vec<&str> = root.lines().map(str::trim).collect();
    lines
        .windows(2)
        .filter(|w| w[0] == "#[cfg(test)]")
        .filter_map(|w| w[1].strip_prefix("mod ")?.strip_suffix(';'))
        .map(str::to_owned)
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read the source folder") {
        let path = entry.expect("read a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_graph(src: &Path) -> Graph {
    let root = ["lib.rs", "main.rs"]
        .iter()
        .find_map(|f| std::fs::read_to_string(src.join(f)).ok())
        .expect("a crate root");
    let skip = test_only_modules(&root);
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let Some(module) = top_module(src, &file) else {
            continue;
        };
        if skip.contains(&module) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read a source file");
        let refs = references(&code_of(&text));
        let edges = graph.entry(module.clone()).or_default();
        edges.extend(refs.into_iter().filter(|r| *r != module));
    }
    // Names that are not modules of the crate (macros, re-exports at the
    // root) are not edges.
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for edges in graph.values_mut() {
        edges.retain(|e| modules.contains(e));
    }
    graph
}

/// Every cycle as one strongly connected component (Tarjan), each shown
/// with its edges inside the component.
fn cycles(graph: &Graph) -> Vec<String> {
    struct Walk<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<&'a str>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in &self.graph[v] {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.stack.contains(&w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
        .into_iter()
        .map(|mut c| {
            c.sort_unstable();
            c.iter()
                .map(|m| {
                    let inside: Vec<&str> = graph[*m]
                        .iter()
                        .map(String::as_str)
                        .filter(|e| c.contains(e))
                        .collect();
                    format!("{m} -> {}", inside.join(", "))
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .collect()
}

fn src_of(krate: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates")
        .join(krate)
        .join("src")
}

#[test]
fn zw_core_modules_have_no_cycle() {
    let graph = module_graph(&src_of("zw-core"));
    // The tail and the families are all there: the reading found them.
    for m in [
        "scan",
        "reconcile",
        "record",
        "finding",
        "families",
        "settings",
    ] {
        assert!(graph.contains_key(m), "module {m} not read: {graph:?}");
    }
    assert!(graph["scan"].contains("reconcile"), "{graph:?}");
    assert_eq!(
        cycles(&graph),
        Vec::<String>::new(),
        "import cycles in zw-core"
    );
}

#[test]
fn zw_cli_modules_have_no_cycle() {
    let graph = module_graph(&src_of("zw-cli"));
    assert!(graph.contains_key("exit"), "{graph:?}");
    assert_eq!(
        cycles(&graph),
        Vec::<String>::new(),
        "import cycles in zw-cli"
    );
}

#[test]
fn the_reading_sees_plain_and_grouped_references_and_finds_a_cycle() {
    let code = "use crate::a::X;\nuse crate::{b, c::{D, E}, d::F};\n// crate::hidden\nfn f() { crate::e::g() }\n#[cfg(test)]\nmod tests { use crate::t; }";
    let refs = references(&code_of(code));
    assert_eq!(
        refs,
        ["a", "b", "c", "d", "e"].map(str::to_owned).into(),
        "from {code}"
    );
    let graph: Graph = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(cycles(&graph), vec!["a -> b; b -> c; c -> a".to_owned()]);
    assert_eq!(
        test_only_modules("mod a;\n#[cfg(test)]\nmod proptests;\n"),
        ["proptests".to_owned()].into()
    );
}
