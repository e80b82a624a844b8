//! ARCHITECTURE.md cannot drift silently: every module of the engine and the app is
//! named in it; every path, constant and test it names exists; and the numbers that
//! change (defaults, limits) are named by their constant, not copied.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn doc() -> String {
    std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md")
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source folders the doc maps.
const SOURCE_DIRS: [&str; 3] = ["src", "crates/engine/src", "crates/testsite/src"];

/// Every source file of the app and the engine, with their tests and benches.
fn code_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in SOURCE_DIRS
        .iter()
        .chain(&["tests", "crates/engine/tests", "crates/engine/benches"])
    {
        sources(&root().join(dir), &mut files);
    }
    files
}

/// All source text of the app and the engine, with its tests and benches.
fn all_code(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("read"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The words the doc puts in backticks.
fn quoted(doc: &str) -> BTreeSet<String> {
    doc.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn every_module_is_named_in_the_architecture_doc() {
    let doc = doc();
    let mut missing = Vec::new();
    for dir in SOURCE_DIRS {
        let base = root().join(dir);
        let mut files = Vec::new();
        sources(&base, &mut files);
        for file in files {
            let rel = file.strip_prefix(&base).expect("under base");
            let stem = rel.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            // A folder's `mod.rs` is the folder; tests sit beside what they test.
            if matches!(stem, "tests" | "main" | "lib") || stem.ends_with("_tests") {
                continue;
            }
            let name = if stem == "mod" {
                rel.parent()
                    .and_then(|p| p.file_name())
                    .and_then(|s| s.to_str())
                    .unwrap_or("")
                    .to_string()
            } else {
                stem.to_string()
            };
            // Its file, its path from its folder, or its name in backticks.
            let folder = if stem == "mod" {
                rel.parent().and_then(Path::parent)
            } else {
                rel.parent()
            };
            let parent = folder
                .and_then(|p| p.file_name())
                .and_then(|s| s.to_str())
                .unwrap_or("");
            let named = [
                format!("{name}.rs"),
                format!("{name}/"),
                format!("{parent}/{name}"),
                format!("`{name}`"),
            ]
            .iter()
            .any(|form| doc.contains(form.as_str()));
            if !named {
                missing.push(format!("{dir}/{}", rel.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not name: {missing:?}"
    );
}

#[test]
fn every_path_constant_and_test_the_doc_names_exists() {
    let doc = doc();
    let files = code_files();
    let code = all_code(&files);
    let mut wrong = Vec::new();
    for word in quoted(&doc) {
        let word = word.trim();
        let is_path = (word.ends_with(".rs") || word.ends_with('/'))
            && !word.contains(' ')
            && !word.contains('*')
            // A place on the user's machine, not in the repository.
            && !word.starts_with(['$', '~', '/']);
        if is_path {
            // A path from the repository root, or from one of the source folders.
            let found = std::iter::once(root())
                .chain(SOURCE_DIRS.iter().map(|d| root().join(d)))
                .chain(std::iter::once(root().join("crates/engine/src/engine")))
                .any(|base| base.join(word).exists());
            // A bare file name (`worker.rs`) is found anywhere in the tree.
            let bare = !word.contains('/')
                && files
                    .iter()
                    .any(|f| f.file_name().and_then(|n| n.to_str()) == Some(word));
            if !found && !bare {
                wrong.push(format!("path `{word}`"));
            }
            continue;
        }
        let ident = word.rsplit("::").next().unwrap_or(word);
        let constant = ident.len() > 3
            && ident
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
            && ident.contains('_');
        // A constant, or an environment variable the code reads (`NO_PROXY`).
        if constant
            && !code.contains(&format!("const {ident}:"))
            && !code.contains(&format!("\"{ident}\""))
        {
            wrong.push(format!("constant `{word}`"));
        }
        let test_name = ident.matches('_').count() >= 4
            && ident
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit());
        if test_name && !code.contains(&format!("fn {ident}")) {
            wrong.push(format!("function `{word}`"));
        }
    }
    assert!(
        wrong.is_empty(),
        "ARCHITECTURE.md names what does not exist: {wrong:?}"
    );
}

/// Defaults and limits the doc talks about: it names each by its constant (or its
/// `Config` field), and never states the number the code has today.
#[test]
fn the_doc_names_defaults_and_limits_by_their_constant() {
    let doc = doc();
    let files = code_files();
    let code = all_code(&files);
    // (a sentence the doc would copy the number into, the number as the code has it)
    let value = |name: &str| -> String {
        let at = code
            .find(&format!("const {name}:"))
            .unwrap_or_else(|| panic!("const {name} is gone"));
        let line = code[at..].lines().next().unwrap_or("");
        line.split('=')
            .nth(1)
            .unwrap_or("")
            .trim()
            .trim_end_matches(';')
            .to_string()
    };
    let copied = [
        ("START", "starts at"),
        ("H1_CAP", "over HTTP/1.1"),
        ("H2_CAP", "over HTTP/2"),
        ("MAX_REDIRECTS", "at most"),
    ];
    for (name, context) in copied {
        let number = value(name);
        assert!(
            !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()),
            "{name} = {number}"
        );
        for line in doc.lines().filter(|l| l.contains(context)) {
            let says_number = line
                .split(|c: char| !c.is_ascii_digit())
                .any(|n| n == number);
            assert!(
                !says_number || line.contains(name),
                "ARCHITECTURE.md copies {name} ({number}) instead of naming it: {line}"
            );
        }
    }
}
