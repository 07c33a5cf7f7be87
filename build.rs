//! Embeds the SQL of `queries/`: every `queries/<pack>/*.sql` becomes an entry of `BUILTIN` in the
//! generated `packs.rs`, and every `queries/views/<name>.sql` an entry of `VIEWS` in `views.rs`,
//! so a rule or view added to `queries/` is in the next build without touching the code.

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
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("packs.rs"), out).expect("OUT_DIR is writable");

    let mut views: Vec<String> = std::fs::read_dir(root.join("views"))
        .expect("queries/views/ is part of the crate")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    views.sort();
    let mut out = String::from(
        "/// The views of `queries/views/`, embedded: (name, SQL of the view's query).\npub const VIEWS: &[(&str, &str)] = &[\n",
    );
    for file in &views {
        let name = file.trim_end_matches(".sql");
        writeln!(
            out,
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/queries/views/{file}\"))),"
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");
    std::fs::write(Path::new(&out_dir).join("views.rs"), out).expect("OUT_DIR is writable");
}
