//! No import cycles between the modules of one crate.
//!
//! Each source file is a module (`a/b.rs` and `a/b/mod.rs` are `a::b`). A module depends on
//! another when it names it by path: `crate::x::y`, `super::y`, `self::y` (in `use` lines or in
//! code). A reference resolves to the deepest module that the path names. References to one's own
//! ancestors (a façade's re-exports) and a parent's references to its own children (declarations
//! and re-exports) are not counted; every other edge is, and any cycle among them fails the test
//! with the cycle spelled out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn module_of(root: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(root).unwrap();
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Paths named in a file, as segments after `crate::`, `super::` (resolved) or `self::`.
fn references(src: &str, me: &Module) -> Vec<Module> {
    // Strip comments line by line (doc comments name paths in prose).
    let code: String = src.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let text = code;
    for (start, kw) in [("crate::", 0usize), ("super::", 1), ("self::", 2)]
        .iter()
        .flat_map(|(k, t)| text.match_indices(k).map(move |(i, _)| (i, *t)).collect::<Vec<_>>())
    {
        if start > 0 && text[..start].chars().last().is_some_and(|c| ident(c) || c == ':') {
            continue; // part of a longer path (`a::self::`, or the second `super::` of a chain)
        }
        let mut base: Module = match kw {
            0 => Vec::new(),
            1 => me[..me.len().saturating_sub(1)].to_vec(),
            _ => me.clone(),
        };
        let mut rest = &text[start + ["crate::", "super::", "self::"][kw].len()..];
        while let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
        }
        // Segments: idents joined by `::`; a `{` group contributes each of its first segments.
        let mut segs = base.clone();
        let mut r = rest;
        loop {
            let n = r.chars().take_while(|c| ident(*c)).count();
            if n == 0 {
                if let Some(group) = r.strip_prefix('{') {
                    let end = group.find('}').unwrap_or(group.len());
                    for part in group[..end].split(',') {
                        let p = part.trim();
                        let mut s = segs.clone();
                        for seg in p.split("::") {
                            let seg: String = seg.chars().take_while(|c| ident(*c)).collect();
                            if seg.is_empty() || seg == "self" {
                                break;
                            }
                            s.push(seg);
                        }
                        out.push(s);
                    }
                }
                break;
            }
            segs.push(r[..n].to_string());
            r = &r[n..];
            match r.strip_prefix("::") {
                Some(x) => r = x,
                None => break,
            }
        }
        out.push(segs);
    }
    out
}

fn check_crate(src_root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src_root, &mut files);
    let mods: BTreeMap<Module, PathBuf> = files.iter().map(|f| (module_of(src_root, f), f.clone())).collect();
    let known: BTreeSet<Module> = mods.keys().cloned().collect();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (m, f) in &mods {
        let src = std::fs::read_to_string(f).unwrap();
        for r in references(&src, m) {
            // The deepest known module that is a prefix of the path.
            let mut target = r.clone();
            while !target.is_empty() && !known.contains(&target) {
                target.pop();
            }
            if target == *m || m.starts_with(&target) || target.starts_with(m) {
                continue; // self, an ancestor (façade), or one's own child
            }
            edges.entry(m.clone()).or_default().insert(target);
        }
    }
    // Cycles: strongly connected components of size > 1 (Tarjan).
    let nodes: Vec<Module> = known.iter().cloned().collect();
    let index_of: BTreeMap<&Module, usize> = nodes.iter().enumerate().map(|(i, m)| (m, i)).collect();
    let adj: Vec<Vec<usize>> = nodes
        .iter()
        .map(|m| edges.get(m).map(|s| s.iter().map(|t| index_of[t]).collect()).unwrap_or_default())
        .collect();
    let mut idx = vec![usize::MAX; nodes.len()];
    let mut low = vec![0; nodes.len()];
    let mut on = vec![false; nodes.len()];
    let mut stack = Vec::new();
    let mut counter = 0;
    let mut sccs: Vec<Vec<usize>> = Vec::new();
    // Tarjan's recursion passes its state explicitly; a struct for it would only rename the fields.
    #[allow(clippy::too_many_arguments)]
    fn strong(
        v: usize,
        adj: &[Vec<usize>],
        idx: &mut [usize],
        low: &mut [usize],
        on: &mut [bool],
        stack: &mut Vec<usize>,
        counter: &mut usize,
        sccs: &mut Vec<Vec<usize>>,
    ) {
        idx[v] = *counter;
        low[v] = *counter;
        *counter += 1;
        stack.push(v);
        on[v] = true;
        for &w in &adj[v] {
            if idx[w] == usize::MAX {
                strong(w, adj, idx, low, on, stack, counter, sccs);
                low[v] = low[v].min(low[w]);
            } else if on[w] {
                low[v] = low[v].min(idx[w]);
            }
        }
        if low[v] == idx[v] {
            let mut c = Vec::new();
            while let Some(w) = stack.pop() {
                on[w] = false;
                c.push(w);
                if w == v {
                    break;
                }
            }
            if c.len() > 1 {
                sccs.push(c);
            }
        }
    }
    for v in 0..nodes.len() {
        if idx[v] == usize::MAX {
            strong(v, &adj, &mut idx, &mut low, &mut on, &mut stack, &mut counter, &mut sccs);
        }
    }
    let nodes = &nodes;
    let adj = &adj;
    let name = |m: &Module| if m.is_empty() { "crate".to_string() } else { m.join("::") };
    sccs.iter()
        .map(|c| {
            let members: BTreeSet<usize> = c.iter().copied().collect();
            let detail: Vec<String> = c
                .iter()
                .flat_map(|&v| {
                    adj[v]
                        .iter()
                        .filter(|w| members.contains(w))
                        .map(move |&w| format!("{} → {}", name(&nodes[v]), name(&nodes[w])))
                })
                .collect();
            format!("{}: {}", src_root.display(), detail.join(", "))
        })
        .collect()
}

#[test]
fn no_module_cycles_in_any_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut roots = vec![root.join("src")];
    for e in std::fs::read_dir(root.join("crates")).unwrap() {
        let p = e.unwrap().path().join("src");
        if p.is_dir() {
            roots.push(p);
        }
    }
    let cycles: Vec<String> = roots.iter().flat_map(|r| check_crate(r)).collect();
    assert!(cycles.is_empty(), "import cycles between modules:\n{}", cycles.join("\n"));
}

#[test]
fn the_checker_finds_a_planted_cycle() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(src.join("a/mod.rs"), "pub mod x;\npub mod y;\npub use x::X;\n").unwrap();
    std::fs::write(src.join("a/x.rs"), "use super::y::Y;\npub struct X;\n").unwrap();
    std::fs::write(src.join("a/y.rs"), "pub struct Y(crate::a::x::X);\n").unwrap();
    std::fs::write(src.join("b.rs"), "use crate::a::X; // façade use, no cycle\n").unwrap();
    let found = check_crate(&src);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("a::x → a::y") && found[0].contains("a::y → a::x"), "{found:?}");
    // Breaking it clears the report.
    std::fs::write(src.join("a/y.rs"), "pub struct Y;\n").unwrap();
    assert!(check_crate(&src).is_empty());
}
