//! The engine's modules import each other without circles, and only `engine/` ties the
//! layers together: `input/`, `net/`, `disk/`, `imaging/`, `error` and `item` never
//! import it. The layers themselves (a folder, or a top file) stand in one order, so a
//! type one layer names never comes from a layer that names one of its own (a loop the
//! module graph alone does not see). A download goes one way: `net/` fetches into a
//! part and hands it up; publishing is the engine's. Read from the source, so a new
//! import that breaks this fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `disk/library` for `src/disk/library.rs`, `engine` for `src/engine/mod.rs`.
fn module_name(src: &Path, file: &Path) -> String {
    let rel = file
        .strip_prefix(src)
        .expect("under src")
        .with_extension("");
    let name = rel.to_string_lossy().replace('\\', "/");
    name.strip_suffix("/mod").unwrap_or(&name).to_string()
}

/// The modules a file's code names as `crate::a::b` (comments skipped, tests too:
/// a unit test may reach anywhere).
fn imports(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut found = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (at, _) in line.match_indices("crate::") {
            let path: String = line[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
            // The longest prefix that is a module file.
            for n in (1..=parts.len().min(2)).rev() {
                let candidate = parts[..n].join("/");
                if modules.contains(&candidate) {
                    found.insert(candidate);
                    break;
                }
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_name(&src, f)).collect();
    files
        .iter()
        .map(|f| {
            let name = module_name(&src, f);
            let text = std::fs::read_to_string(f).expect("read");
            let mut deps = imports(&text, &modules);
            deps.remove(&name);
            (name, deps)
        })
        .collect()
}

#[test]
fn no_module_imports_another_in_a_circle() {
    let graph = graph();
    assert!(graph.len() > 20, "{} modules found", graph.len());
    // Depth-first search for a back edge; the path to it is the circle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = path.iter().position(|p| p == next).unwrap_or(0);
                    let mut circle = path[start..].to_vec();
                    circle.push(next.clone());
                    return Some(circle);
                }
                Some(_) => {}
                None => {
                    if let Some(circle) = visit(next, graph, state, path) {
                        return Some(circle);
                    }
                }
            }
        }
        path.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if !state.contains_key(node.as_str())
            && let Some(circle) = visit(node, &graph, &mut state, &mut Vec::new())
        {
            panic!("import circle: {}", circle.join(" -> "));
        }
    }
}

#[test]
fn lower_layers_never_import_the_engine() {
    for (module, deps) in graph() {
        if module == "lib" || module.starts_with("engine") {
            continue;
        }
        let upward: Vec<&String> = deps.iter().filter(|d| d.starts_with("engine")).collect();
        assert!(upward.is_empty(), "{module} imports {upward:?}");
    }
}

/// The layers from the bottom up: each may use those before it, never one after it.
const LAYERS: [&str; 7] = ["item", "imaging", "error", "input", "disk", "net", "engine"];

/// The layer a module belongs to: its folder, or its file at the top.
fn layer(module: &str) -> &str {
    module.split('/').next().unwrap_or(module)
}

#[test]
fn the_layers_stand_in_one_order_with_no_loop_between_them() {
    let mut seen = BTreeSet::new();
    for (module, deps) in graph() {
        let from = layer(&module);
        // The crate root re-exports; `properties` is a test module.
        if from == "lib" || from == "properties" {
            continue;
        }
        let at = LAYERS
            .iter()
            .position(|l| *l == from)
            .unwrap_or_else(|| panic!("{module} is in no layer of {LAYERS:?}"));
        for dep in deps {
            let to = layer(&dep);
            if to == from {
                continue;
            }
            let below = LAYERS[..at].contains(&to);
            assert!(
                below,
                "{module} (layer {from}) uses {dep} (layer {to}), which is not below it: \
                 the layers from the bottom are {LAYERS:?}"
            );
            seen.insert((from.to_string(), to.to_string()));
        }
    }
    // The check saw the edges it is about (the test reads real imports).
    assert!(seen.contains(&("net".into(), "disk".into())), "{seen:?}");
    assert!(
        seen.contains(&("error".into(), "imaging".into())),
        "{seen:?}"
    );
}

/// A download goes one way: `net/` streams the body into a part and hands the whole
/// part up; checking, naming and publishing it under its final name are the engine's,
/// done through `disk/`. No code below the engine publishes a file or names one by the
/// user's template, and no download takes a callback from above.
#[test]
fn net_hands_a_part_up_and_never_publishes_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src.join("net"), &mut files);
    sources(&src.join("input"), &mut files);
    sources(&src.join("imaging"), &mut files);
    assert!(files.len() > 10, "{} files read", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let code = text.split("#[cfg(test)]").next().unwrap_or(&text);
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for publishing in [".commit(", ".commit_in(", "disk::template", "dyn FnMut"] {
                assert!(
                    !line.contains(publishing),
                    "{} has `{publishing}` (publishing is the engine's): {line}",
                    file.display()
                );
            }
        }
    }
}
