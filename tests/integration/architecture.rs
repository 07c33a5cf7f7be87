//! The code map of `lib.rs` holds: dependencies run one way, from the front ends down through the
//! wings to the shared leaves, and no library module imports the command line or the shell.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every top-level module and its layer: a module may use only modules of a lower layer (and
/// itself). Front ends on top, then the wings in their order, then the shared leaves.
const LAYERS: &[(&str, u8)] = &[
    ("schema", 0),
    ("time", 0),
    ("progress", 0),
    ("source", 1),
    ("lake", 2),
    ("ingest", 3),
    ("query", 4),
    ("verify", 5),
    ("detect", 6),
    ("investigate", 7),
    ("repl", 8),
    ("synth", 8),
    ("cmd", 9),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its test module and comments: tests may reach anywhere, and
/// comments name modules without depending on them.
fn library_code(text: &str) -> String {
    let code = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names through `crate::`.
fn crate_uses(code: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    used.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            used.insert(name);
        }
    }
    used
}

#[test]
fn dependencies_run_one_way_from_front_ends_to_leaves() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let own = layer(&module)
            .unwrap_or_else(|| panic!("src/{first} has no layer: add it to LAYERS and lib.rs"));
        let code = library_code(&std::fs::read_to_string(file).unwrap());
        for used in crate_uses(&code) {
            if used == module {
                continue;
            }
            let theirs = layer(&used)
                .unwrap_or_else(|| panic!("{}: crate::{used} has no layer", rel.display()));
            if theirs >= own {
                wrong.push(format!("{} ({module}) uses crate::{used}", rel.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn lib_declares_and_maps_every_layer() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let declared: BTreeSet<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    let layered: BTreeSet<&str> = LAYERS.iter().map(|(m, _)| *m).collect();
    assert_eq!(declared, layered, "lib.rs and LAYERS disagree");
    for m in &declared {
        assert!(
            lib.contains(&format!("[`{m}`]")),
            "the code map of lib.rs omits {m}"
        );
    }
}

#[test]
fn the_layer_check_catches_an_upward_import() {
    let code = library_code(
        "use crate::cmd::args;\nuse crate::{schema, repl};\n// crate::detect\n#[cfg(test)]\nuse crate::investigate;",
    );
    let used = crate_uses(&code);
    assert_eq!(
        used,
        ["cmd", "repl", "schema"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
}
