//! The house as docs/architecture.md draws it: every public module listed there, imports that
//! point only down its layers, and no import cycle between the library's files.
//!
//! The layers are read from the page itself (the fenced block after "Layers, top first"), so
//! the picture and the code cannot drift apart without this test failing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn architecture() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("docs/architecture.md")).unwrap()
}

/// A library source file and the module path it defines (`src/seal/custody/mod.rs` →
/// `seal::custody`).
struct SourceFile {
    module: Vec<String>,
    code: String,
}

fn library_files() -> Vec<SourceFile> {
    let src = Path::new(ROOT).join("src");
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(&src).sort_by_file_name() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let relative = path.strip_prefix(&src).unwrap();
        let mut module: Vec<String> = relative
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if module.last().is_some_and(|last| last == "mod") {
            module.pop();
        }
        let top = module.first().map(String::as_str).unwrap_or("");
        let is_test_file = module.last().is_some_and(|last| last == "tests");
        if matches!(top, "lib" | "main" | "cli") || is_test_file {
            continue;
        }
        let code = without_tests(&strip_comments(&std::fs::read_to_string(path).unwrap()));
        files.push(SourceFile { module, code });
    }
    files
}

/// The code without `//` comments (doc comments name modules without importing them).
fn strip_comments(code: &str) -> String {
    code.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The code before its `#[cfg(test)]` module: tests may reach anywhere.
fn without_tests(code: &str) -> String {
    match code.find("#[cfg(test)]\nmod tests") {
        Some(at) => code[..at].to_string(),
        None => code.to_string(),
    }
}

/// Every module path the code names: `crate::a::b`, `super::x`, `self::x`, and the paths of
/// `use` trees with braces (`use crate::{a::b, c::{d, e}}`), made absolute.
fn referenced_paths(file: &SourceFile) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = file.code.as_str();
    while let Some(at) = next_path_start(rest) {
        rest = &rest[at..];
        let (tree, consumed) = read_use_tree(rest);
        for path in tree {
            if let Some(absolute) = absolute(&file.module, &path) {
                paths.push(absolute);
            }
        }
        rest = &rest[consumed.max(1)..];
    }
    paths
}

fn next_path_start(code: &str) -> Option<usize> {
    ["crate::", "super::", "self::"]
        .iter()
        .filter_map(|start| {
            code.match_indices(start)
                .find(|(at, _)| {
                    code[..*at]
                        .chars()
                        .next_back()
                        .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'))
                })
                .map(|(at, _)| at)
        })
        .min()
}

/// Reads `a::b::{c, d::e}` from the start of `code`: the paths it names and the bytes read.
fn read_use_tree(code: &str) -> (Vec<Vec<String>>, usize) {
    let bytes = code.as_bytes();
    let mut at = 0;
    let mut prefix = Vec::new();
    loop {
        let start = at;
        while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
            at += 1;
        }
        if at > start {
            prefix.push(code[start..at].to_string());
        }
        if code[at..].starts_with("::{") {
            at += 3;
            let mut paths = Vec::new();
            loop {
                while at < bytes.len() && (bytes[at] as char).is_whitespace() {
                    at += 1;
                }
                if at >= bytes.len() || bytes[at] == b'}' {
                    return (paths, at + 1);
                }
                let (inner, used) = read_use_tree(&code[at..]);
                for path in inner {
                    let mut full = prefix.clone();
                    full.extend(path.into_iter().filter(|part| part != "self"));
                    paths.push(full);
                }
                if used == 0 {
                    at += 1;
                }
                at += used;
                while at < bytes.len() && matches!(bytes[at], b',' | b' ' | b'\n' | b'\t') {
                    at += 1;
                }
            }
        } else if code[at..].starts_with("::") {
            at += 2;
        } else {
            return (vec![prefix], at);
        }
    }
}

fn absolute(module: &[String], path: &[String]) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut absolute = match first.as_str() {
        "crate" => Vec::new(),
        "self" => module.to_vec(),
        "super" => module[..module.len().checked_sub(1)?].to_vec(),
        _ => return None,
    };
    let mut rest = rest;
    while rest.first().is_some_and(|part| part == "super") {
        absolute.pop()?;
        rest = &rest[1..];
    }
    absolute.extend(rest.iter().cloned());
    Some(absolute)
}

/// The file module a path lands in: its longest prefix that is a file.
fn owning_module(modules: &BTreeSet<Vec<String>>, path: &[String]) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|prefix| modules.contains(prefix))
}

/// The layers, top first, from the fenced block after "Layers, top first" in the page: one
/// line per layer, its modules separated by spaces.
fn layers() -> BTreeMap<String, usize> {
    let page = architecture();
    let after = page
        .split("Layers, top first")
        .nth(1)
        .expect("docs/architecture.md has a \"Layers, top first\" block");
    let block = after.split("```").nth(1).expect("a fenced block after it");
    let lines: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut rank = BTreeMap::new();
    for (depth, line) in lines.iter().enumerate() {
        for module in line.split_whitespace() {
            rank.insert(module.to_string(), lines.len() - depth);
        }
    }
    rank
}

#[test]
fn architecture_lists_every_public_module() {
    let page = architecture();
    let lib = std::fs::read_to_string(Path::new(ROOT).join("src/lib.rs")).unwrap();
    let top_modules: Vec<&str> = lib
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub mod "))
        .map(|rest| rest.trim_end_matches(';'))
        .collect();
    assert!(top_modules.len() > 10, "{top_modules:?}");
    let mut missing = Vec::new();
    for top in &top_modules {
        let Some(row) = page
            .lines()
            .find(|line| line.starts_with(&format!("| `{top}`")))
        else {
            missing.push(format!("{top} (no row in the Modules table)"));
            continue;
        };
        for child in public_children(&Path::new(ROOT).join("src").join(top)) {
            // A child is named by its last part, as `name` or as the folder `name/`.
            let name = child.rsplit("::").next().unwrap_or(&child);
            if !row.contains(&format!("`{name}`")) && !row.contains(&format!("`{name}/`")) {
                missing.push(format!("{top}::{child}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/architecture.md does not name these public modules: {missing:?}"
    );
}

/// The `pub mod` children of a module folder, and theirs, as `a` and `a::b`... names.
fn public_children(folder: &Path) -> Vec<String> {
    let Ok(code) = std::fs::read_to_string(folder.join("mod.rs")) else {
        return Vec::new();
    };
    let mut children = Vec::new();
    for name in code
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub mod "))
        .map(|rest| rest.trim_end_matches(';').to_string())
    {
        children.push(name.clone());
        let nested: PathBuf = folder.join(&name);
        children.extend(
            public_children(&nested)
                .into_iter()
                .map(|grandchild| format!("{name}::{grandchild}")),
        );
    }
    children
}

#[test]
fn imports_point_down_the_layers() {
    let rank = layers();
    let mut upward = BTreeSet::new();
    for file in library_files() {
        let top = &file.module[0];
        let own = *rank
            .get(top)
            .unwrap_or_else(|| panic!("module {top} is in no layer of docs/architecture.md"));
        for path in referenced_paths(&file) {
            let Some(other) = path.first() else { continue };
            if other == top || !rank.contains_key(other) {
                continue;
            }
            if rank[other] >= own {
                upward.insert(format!("{} -> {other}", file.module.join("::")));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that do not point down the layers of docs/architecture.md: {upward:#?}"
    );
}

#[test]
fn no_import_cycle_between_files() {
    let files = library_files();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &files {
        for path in referenced_paths(file) {
            let Some(target) = owning_module(&modules, &path) else {
                continue;
            };
            // A file and the module folder it sits in (mod.rs, which declares and re-exports
            // it) are one unit: only edges between files of which neither contains the other
            // count.
            if target.starts_with(&file.module) || file.module.starts_with(&target) {
                continue;
            }
            edges.entry(file.module.clone()).or_default().insert(target);
        }
    }
    let cycles = find_cycles(&edges);
    assert!(
        cycles.is_empty(),
        "import cycles between files: {:#?}",
        cycles
            .iter()
            .map(|cycle| cycle
                .iter()
                .map(|m| m.join("::"))
                .collect::<Vec<_>>()
                .join(" -> "))
            .collect::<Vec<_>>()
    );
}

/// One cycle through each strongly connected set of files (depth-first search).
fn find_cycles(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<Vec<String>>> {
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for start in edges.keys() {
        let mut stack = vec![start.clone()];
        let mut on_path = BTreeSet::from([start.clone()]);
        walk(edges, &mut stack, &mut on_path, &mut done, &mut cycles);
    }
    cycles
}

fn walk(
    edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
    stack: &mut Vec<Vec<String>>,
    on_path: &mut BTreeSet<Vec<String>>,
    done: &mut BTreeSet<Vec<String>>,
    cycles: &mut Vec<Vec<Vec<String>>>,
) {
    let current = stack.last().unwrap().clone();
    if done.contains(&current) {
        return;
    }
    for next in edges.get(&current).into_iter().flatten() {
        if on_path.contains(next) {
            let from = stack.iter().position(|m| m == next).unwrap();
            let mut cycle = stack[from..].to_vec();
            cycle.push(next.clone());
            cycles.push(cycle);
        } else if !done.contains(next) {
            stack.push(next.clone());
            on_path.insert(next.clone());
            walk(edges, stack, on_path, done, cycles);
            on_path.remove(next);
            stack.pop();
        }
    }
    done.insert(current);
}
