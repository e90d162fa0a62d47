//! The layering rules of ARCHITECTURE.md, read from the source: no import
//! cycle spans more than two files, or files of two folders; SQL is written
//! only in `src/store/`. Reads `crate::` paths as text (a `use` or an
//! inline path), which is enough for a tree that names its modules plainly.
//! Unit-test modules are left out: a test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "tests") {
                continue;
            }
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && !path
                .file_stem()
                .is_some_and(|s| s.to_string_lossy().ends_with("tests"))
        {
            out.push(path);
        }
    }
}

/// The file's text up to its unit-test module.
fn non_test_text(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("source file is readable");
    let mut kept = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod "))
        {
            break;
        }
        // Comments may name paths that are not imports.
        if !line.trim_start().starts_with("//") {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    kept
}

/// Module path (`["iam", "authorize"]`) of every file under `src/`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("file under src/");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expands the `crate::` path starting at `text` (just after `crate::`)
/// into full paths, `{a::b, c}` groups included.
fn expand(text: &str, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut path = prefix.to_vec();
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i < chars.len() && chars[i] == '{' {
            i += 1;
            loop {
                while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
                    i += 1;
                }
                if i >= chars.len() || chars[i] == '}' {
                    return i + 1;
                }
                let rest: String = chars[i..].iter().collect();
                i += expand(&rest, &path, out);
            }
        }
        let start = i;
        while i < chars.len() && is_ident_char(chars[i]) {
            i += 1;
        }
        if i > start {
            let segment: String = chars[start..i].iter().collect();
            match segment.as_str() {
                "super" => {
                    path.pop();
                }
                "self" => {}
                _ => path.push(segment),
            }
        }
        if i + 1 < chars.len() && chars[i] == ':' && chars[i + 1] == ':' {
            i += 2;
            continue;
        }
        out.push(path);
        return i;
    }
}

struct Tree {
    files: Vec<PathBuf>,
    modules: BTreeMap<Vec<String>, usize>,
    /// Per file: the names it re-exports (`pub use a::B;`) and where from;
    /// a glob re-export is kept under `*`.
    reexports: Vec<BTreeMap<String, Vec<Vec<String>>>>,
    /// Per file: the names it defines.
    defines: Vec<BTreeSet<String>>,
}

/// Names a file defines at any depth (`struct X`, `fn x`, ...).
fn definitions(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for keyword in [
        "struct ",
        "enum ",
        "fn ",
        "type ",
        "const ",
        "trait ",
        "static ",
        "macro_rules! ",
    ] {
        for (at, _) in text.match_indices(keyword) {
            if text[..at].chars().next_back().is_some_and(is_ident_char) {
                continue;
            }
            let name: String = text[at + keyword.len()..]
                .chars()
                .take_while(|&c| is_ident_char(c))
                .collect();
            if !name.is_empty() {
                names.insert(name);
            }
        }
    }
    names
}

/// `pub use` statements of a file, as name -> full paths.
fn reexports(text: &str, module: &[String]) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut map: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for prefix in ["pub use ", "pub(crate) use "] {
        for (at, _) in text.match_indices(prefix) {
            let rest = &text[at + prefix.len()..];
            let (rest, base) = if let Some(r) = rest.strip_prefix("crate::") {
                (r, vec![])
            } else if let Some(r) = rest.strip_prefix("self::") {
                (r, module.to_vec())
            } else {
                // `super::` and `child::` are relative to the module.
                (rest, module.to_vec())
            };
            let mut paths = Vec::new();
            // A glob ends the path with `*`; keep it as the name.
            let text = rest.replace("::*", "::__glob");
            expand(&text, &base, &mut paths);
            for path in paths {
                if let Some(name) = path.last() {
                    let key = if name == "__glob" { "*" } else { name.as_str() };
                    let target = path[..path.len() - usize::from(name == "__glob")].to_vec();
                    map.entry(key.to_string()).or_default().push(target);
                }
            }
        }
    }
    map
}

impl Tree {
    fn read() -> Self {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        source_files(&src, &mut files);
        let modules: BTreeMap<_, _> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (module_of(&src, f), i))
            .collect();
        let texts: Vec<String> = files.iter().map(|f| non_test_text(f)).collect();
        let defines = texts.iter().map(|t| definitions(t)).collect();
        let reexports = files
            .iter()
            .zip(&texts)
            .map(|(f, t)| reexports(t, &module_of(&src, f)))
            .collect();
        Tree {
            files,
            modules,
            reexports,
            defines,
        }
    }

    fn name(&self, file: usize) -> String {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"));
        self.files[file]
            .strip_prefix(src)
            .unwrap_or(&self.files[file])
            .display()
            .to_string()
    }

    fn module_path(&self, file: usize) -> &[String] {
        self.modules
            .iter()
            .find_map(|(m, &f)| (f == file).then_some(m.as_slice()))
            .expect("every file is a module")
    }

    /// The file a path names: its longest prefix that is a module, or,
    /// when that module only re-exports the item, the file it comes from.
    fn file_of(&self, path: &[String]) -> Option<usize> {
        self.resolve(path, 8)
    }

    fn resolve(&self, path: &[String], depth: u32) -> Option<usize> {
        let (n, file) = (1..=path.len())
            .rev()
            .find_map(|n| self.modules.get(&path[..n]).map(|&f| (n, f)))?;
        let Some(name) = path.get(n) else {
            return Some(file);
        };
        if depth == 0 || self.defines[file].contains(name) {
            return Some(file);
        }
        let reexports = &self.reexports[file];
        if let Some(targets) = reexports.get(name) {
            let mut target = targets[0].clone();
            target.extend_from_slice(&path[n + 1..]);
            return self.resolve(&target, depth - 1).or(Some(file));
        }
        for glob in reexports.get("*").into_iter().flatten() {
            let mut target = glob.clone();
            target.extend_from_slice(&path[n..]);
            if let Some(found) = self.resolve(&target, depth - 1) {
                if self.defines[found].contains(name) {
                    return Some(found);
                }
            }
        }
        Some(file)
    }

    /// The folder a file belongs to: a module's own file (`mod.rs`, or
    /// `config.rs` beside `config/`) counts as inside its folder.
    fn folder(&self, file: usize) -> Vec<String> {
        let module = self.module_path(file);
        let path = &self.files[file];
        let is_root =
            path.file_name().is_some_and(|n| n == "mod.rs") || path.with_extension("").is_dir();
        if is_root {
            module.to_vec()
        } else {
            module[..module.len().saturating_sub(1)].to_vec()
        }
    }

    fn imports(&self) -> Vec<BTreeSet<usize>> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, file)| {
                let text = non_test_text(file);
                let module = self.module_path(i).to_vec();
                let parent = module[..module.len().saturating_sub(1)].to_vec();
                let mut paths = Vec::new();
                for (root, base) in [
                    ("crate::", vec![]),
                    ("super::", parent),
                    ("self::", module.clone()),
                ] {
                    for (at, _) in text.match_indices(root) {
                        let before = text[..at].chars().next_back();
                        if before.is_some_and(|c| is_ident_char(c) || c == '$' || c == ':') {
                            continue;
                        }
                        expand(&text[at + root.len()..], &base, &mut paths);
                    }
                }
                // `use child::Item` names a submodule without a prefix.
                let mut relative = Vec::new();
                for (at, _) in text.match_indices("use ") {
                    let before = text[..at].chars().next_back();
                    if before.is_some_and(is_ident_char) {
                        continue;
                    }
                    expand(&text[at + "use ".len()..], &module, &mut relative);
                }
                // Inline `child::f()` of a submodule.
                let children = self
                    .modules
                    .keys()
                    .filter(|m| m.len() == module.len() + 1 && m.starts_with(&module));
                for child in children {
                    let name = format!("{}::", child[module.len()]);
                    for (at, _) in text.match_indices(&name) {
                        let before = text[..at].chars().next_back();
                        if !before.is_some_and(|c| is_ident_char(c) || c == ':') {
                            expand(&text[at..], &module, &mut relative);
                        }
                    }
                }
                paths.extend(relative.into_iter().filter(|p| {
                    self.file_of(p)
                        .is_some_and(|f| self.module_path(f).len() > module.len())
                }));
                paths
                    .iter()
                    .filter_map(|p| self.file_of(p))
                    .filter(|&target| target != i)
                    .collect()
            })
            .collect()
    }
}

/// Tarjan's strongly connected components with more than one file.
fn cycles(edges: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        edges: &'a [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        found: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in s.edges[v].iter() {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().expect("v is on the stack");
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.found.push(component);
            }
        }
    }
    let n = edges.len();
    let mut state = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in 0..n {
        if state.index[v].is_none() {
            visit(&mut state, v);
        }
    }
    state.found
}

/// Files still in a longer cycle: none since the runtime pieces moved to
/// their floor (`src/runtime/`) and the maintenance commands' shared code
/// to a sibling file. The list stays empty: a file joining a cycle fails
/// the test, and so would a listed file that no longer is in one.
const KNOWN_CYCLES: &[&str] = &[];

#[test]
fn no_import_cycle_spans_more_than_two_files_of_one_folder() {
    let tree = Tree::read();
    let imports = tree.imports();
    assert!(
        imports.iter().map(BTreeSet::len).sum::<usize>() > 100,
        "the reader found too few imports to be reading the tree"
    );
    let mut report = Vec::new();
    let mut in_cycles = BTreeSet::new();
    for component in cycles(&imports) {
        let folders: BTreeSet<_> = component.iter().map(|&f| tree.folder(f)).collect();
        if component.len() > 2 || folders.len() > 1 {
            let mut names: Vec<_> = component.iter().map(|&f| tree.name(f)).collect();
            names.sort();
            in_cycles.extend(names.iter().cloned());
            if names.iter().all(|n| KNOWN_CYCLES.contains(&n.as_str())) {
                continue;
            }
            let arrows: Vec<String> = component
                .iter()
                .flat_map(|&a| {
                    imports[a]
                        .iter()
                        .filter(|b| component.contains(b))
                        .map(move |&b| (a, b))
                })
                .map(|(a, b)| format!("    {} -> {}", tree.name(a), tree.name(b)))
                .collect();
            report.push(format!(
                "a cycle of {} files: {}\n{}",
                names.len(),
                names.join(", "),
                arrows.join("\n")
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n\n"));
    let mended: Vec<_> = KNOWN_CYCLES
        .iter()
        .filter(|f| !in_cycles.contains(**f))
        .collect();
    assert!(
        mended.is_empty(),
        "no longer in a cycle, take them off KNOWN_CYCLES: {mended:?}"
    );
}

#[test]
fn sql_is_written_only_in_the_store() {
    let tree = Tree::read();
    let sql_calls = ["sqlx::query", "QueryBuilder", "query_as(", "query_scalar("];
    let mut offenders = Vec::new();
    for (i, file) in tree.files.iter().enumerate() {
        let name = tree.name(i);
        if name.starts_with("src/store/") {
            continue;
        }
        let text = non_test_text(file);
        for call in sql_calls {
            if text.contains(call) {
                offenders.push(format!("{name}: {call}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "SQL outside src/store/: {offenders:?}"
    );
}

/// The files that may name the web framework: the front ends, and the
/// process pieces that build the server (its wiring, and the request-id
/// and metrics middlewares). Below them an error is a status number and
/// an AWS code (`src/error.rs`), mapped to a response at the edge
/// (`src/api/error_response.rs`).
const WEB_EDGE: &[&str] = &[
    "src/api/",
    "src/awsquery/",
    "src/startup.rs",
    "src/telemetry.rs",
    "src/metrics.rs",
];

#[test]
fn only_the_web_edge_names_actix() {
    let tree = Tree::read();
    let mut offenders = Vec::new();
    let mut edge_files = 0;
    for (i, file) in tree.files.iter().enumerate() {
        let name = tree.name(i);
        let names_actix = non_test_text(file).contains("actix");
        if WEB_EDGE.iter().any(|edge| name.starts_with(edge)) {
            edge_files += usize::from(names_actix);
        } else if names_actix {
            offenders.push(name);
        }
    }
    assert!(
        edge_files > 10,
        "the reader found too few front-end files naming actix to be reading the tree"
    );
    assert!(
        offenders.is_empty(),
        "actix named outside the web edge {WEB_EDGE:?}: {offenders:?}"
    );
}

#[test]
fn the_reader_expands_groups_and_relative_paths() {
    let mut paths = Vec::new();
    expand(
        "{a::B, c::{self, D}, super::e::F};",
        &["x".to_string(), "y".to_string()],
        &mut paths,
    );
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(joined, ["x::y::a::B", "x::y::c", "x::y::c::D", "x::e::F"]);
}
