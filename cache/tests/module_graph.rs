//! The modules of `cache/src` import each other in one direction only: no
//! module reaches itself through `crate::` paths. A circle means two modules
//! share one job, so a reader cannot follow either alone (the write protocol
//! lives in `writer.rs`, get-or-create's hand-off in `creation.rs`, and the
//! engine they both stand on knows neither).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module name → the modules of this crate its source names (`crate::name`).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let sources: BTreeMap<String, String> = std::fs::read_dir(&src)
        .expect("read src")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).expect("read source"))
        })
        .collect();
    sources
        .iter()
        .filter(|(name, _)| name.as_str() != "lib")
        .map(|(name, text)| {
            let named = sources
                .keys()
                .filter(|other| *other != name && text.contains(&format!("crate::{other}::")))
                .cloned()
                .collect();
            (name.clone(), named)
        })
        .collect()
}

/// A circle through `from`, if any, as the modules on it.
fn circle_through(
    graph: &BTreeMap<String, BTreeSet<String>>,
    path: &mut Vec<String>,
    from: &str,
) -> Option<Vec<String>> {
    for next in graph.get(from).into_iter().flatten() {
        if let Some(at) = path.iter().position(|m| m == next) {
            let mut circle = path[at..].to_vec();
            circle.push(next.clone());
            return Some(circle);
        }
        path.push(next.clone());
        if let Some(circle) = circle_through(graph, path, next) {
            return Some(circle);
        }
        path.pop();
    }
    None
}

#[test]
fn no_module_of_the_cache_imports_itself_through_others() {
    let graph = imports();
    assert!(graph.len() >= 15, "{graph:?}");
    for module in graph.keys() {
        let mut path = vec![module.clone()];
        if let Some(circle) = circle_through(&graph, &mut path, module) {
            panic!("import circle: {}", circle.join(" -> "));
        }
    }
    // The engine is the base the write and get-or-create protocols stand on.
    for user in ["writer", "creation"] {
        assert!(!graph["engine"].contains(user), "engine imports {user}");
    }
}
