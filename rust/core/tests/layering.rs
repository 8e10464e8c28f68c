//! The layers of the core import only downwards (docs/architecture.md):
//!
//! ```text
//! tensor  <  kernels  <  trace  <  ops  <  transforms
//! ```
//!
//! `tensor` (storage, layouts, deferred values) imports no other layer;
//! `kernels` (loops over slices) nothing above the tensor; `trace` (levels,
//! `bind`, the `Rule` trait, tapes) names no primitive; `transforms` reaches
//! the primitives only through `bind` and the ops' public functions, never
//! their rules or the kernels. This test fails on a forbidden `crate::` path.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            out.push((p.display().to_string(), text));
        }
    }
}

/// Code lines (comments dropped) of every file under `src/<layer>`.
fn code_of(layer: &str) -> Vec<(String, usize, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer);
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut lines = Vec::new();
    for (path, text) in files {
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            lines.push((path.clone(), i + 1, code.to_string()));
        }
    }
    lines
}

fn check(layer: &str, forbidden: &[&str]) -> Vec<String> {
    code_of(layer)
        .into_iter()
        .filter_map(|(path, line, code)| {
            forbidden
                .iter()
                .find(|f| code.contains(*f))
                .map(|f| format!("{path}:{line}: `{f}` in the {layer} layer: {}", code.trim()))
        })
        .collect()
}

#[test]
fn layers_import_only_downwards() {
    let mut bad = Vec::new();
    bad.extend(check(
        "tensor",
        &[
            "crate::kernels",
            "crate::ops",
            "crate::trace",
            "crate::transforms",
        ],
    ));
    bad.extend(check(
        "kernels",
        &["crate::ops", "crate::trace", "crate::transforms"],
    ));
    bad.extend(check(
        "trace",
        &["crate::ops", "crate::kernels", "crate::transforms", "Prim"],
    ));
    bad.extend(check(
        "transforms",
        &["crate::kernels", "Prim", "Family", "Storage"],
    ));
    bad.extend(check("ops", &["crate::transforms"]));
    assert!(bad.is_empty(), "layering violations:\n{}", bad.join("\n"));
}

#[test]
fn the_check_sees_code_but_not_comments() {
    let lines = code_of("tensor");
    assert!(lines.iter().any(|(_, _, c)| c.contains("crate::")));
    assert!(lines.iter().all(|(_, _, c)| !c.contains("//")));
}
