//! Embeds the detection packs: every `queries/<pack>/*.sql` (except the `views/` directory,
//! which the session embeds itself) becomes an entry of `BUILTIN` in the generated `packs.rs`,
//! so a rule added to `queries/` is in the next build without touching the code.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=queries");
    let root = Path::new("queries");
    let mut files = Vec::new();
    let mut packs: Vec<_> = std::fs::read_dir(root)
        .expect("queries/ is part of the crate")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir() && e.file_name() != "views")
        .collect();
    packs.sort_by_key(|e| e.file_name());
    for pack in packs {
        let mut rules: Vec<_> = std::fs::read_dir(pack.path())
            .expect("a pack directory is readable")
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
            .collect();
        rules.sort_by_key(|e| e.file_name());
        for rule in rules {
            files.push((
                pack.file_name().to_string_lossy().into_owned(),
                rule.file_name().to_string_lossy().into_owned(),
            ));
        }
    }
    let mut out = String::from(
        "/// The built-in rules: (pack, file name, text).\npub const BUILTIN: &[(&str, &str, &str)] = &[\n",
    );
    for (pack, file) in &files {
        writeln!(
            out,
            "    ({pack:?}, {file:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/queries/{pack}/{file}\"))),"
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("packs.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
