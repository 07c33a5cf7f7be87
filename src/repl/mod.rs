//! The interactive SQL shell: the loop that reads statements and backslash commands.
//!
//! Input: a query session and a line source (a rustyline editor on a terminal, or plain lines for
//! scripted sessions). Output: results and messages. Statements run through [`crate::query::exec`];
//! Ctrl-C cancels the running one and keeps the shell; Ctrl-D leaves. History lives in the user's
//! data directory, never in the current one, and lines that look like they carry secrets are not
//! kept. Completion and validation are in [`helper`]; the commands in [`meta`].

pub mod helper;
pub mod meta;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Config, Editor};

use crate::query::exec::{self, Sink};
use crate::query::output::{self, Format};
use helper::{ShellHelper, is_complete};
use meta::{Meta, help};

/// Where statements come from.
enum Lines {
    Editor(Box<Editor<ShellHelper, DefaultHistory>>, Option<PathBuf>),
    Plain(std::io::StdinLock<'static>),
}

impl Lines {
    /// The next whole statement or command; `None` at the end of input.
    fn next(&mut self) -> Result<Option<String>> {
        match self {
            Lines::Editor(ed, history) => match ed.readline("trailscope> ") {
                Ok(text) => {
                    if !looks_secret(&text) && !text.trim().is_empty() {
                        let _ = ed.add_history_entry(text.as_str());
                        if let Some(path) = history {
                            let _ = ed.save_history(path);
                        }
                    }
                    Ok(Some(text))
                }
                Err(ReadlineError::Interrupted) => Ok(Some(String::new())),
                Err(ReadlineError::Eof) => Ok(None),
                Err(e) => Err(e).context("reading a line"),
            },
            Lines::Plain(stdin) => {
                let mut text = String::new();
                loop {
                    let mut line = String::new();
                    if stdin.read_line(&mut line).context("reading stdin")? == 0 {
                        return Ok((!text.trim().is_empty()).then_some(text));
                    }
                    text.push_str(&line);
                    if is_complete(&text) {
                        return Ok(Some(text));
                    }
                }
            }
        }
    }
}

/// Runs the shell until `\q`, `quit` or end of input. `terminal` selects line editing.
pub async fn run(
    ctx: &SessionContext,
    rules: &[crate::detect::Rule],
    mut sink: Sink,
    terminal: bool,
) -> Result<()> {
    let mut lines = if terminal {
        let mut ed: Editor<ShellHelper, DefaultHistory> =
            Editor::with_config(Config::builder().auto_add_history(false).build())
                .context("starting the line editor")?;
        ed.set_helper(Some(helper_for(ctx).with_rules(rules)));
        let history = history_path();
        if let Some(path) = &history {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = ed.load_history(path);
        }
        Lines::Editor(Box::new(ed), history)
    } else {
        Lines::Plain(std::io::stdin().lock())
    };
    if terminal {
        crate::progress::note(&format!(
            "trailscope sql: tables {}. \\help for help, \\q to quit.",
            table_names(ctx).join(", ")
        ));
    }
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("listening for Ctrl-C")?;
    let mut out = std::io::stdout();
    let mut flagged = None;
    while let Some(text) = lines.next()? {
        let stmt = text.trim();
        if stmt.is_empty() {
            continue;
        }
        if matches!(stmt.trim_end_matches(';'), "quit" | "exit") {
            break;
        }
        let result = if stmt.starts_with('\\') {
            match stmt.parse::<Meta>() {
                Ok(Meta::Quit) => break,
                Ok(Meta::Run(id, params)) => tokio::select! {
                    r = run_rule(ctx, rules, &id, &params, &sink, &mut out) => r,
                    _ = sigint.recv() => {
                        crate::progress::note("cancelled");
                        Ok(())
                    }
                },
                Ok(m @ (Meta::Trace(_) | Meta::Timeline(..) | Meta::Summary(_))) => {
                    tokio::select! {
                        r = investigate(ctx, rules, &mut flagged, m, &mut out) => r,
                        _ = sigint.recv() => {
                            crate::progress::note("cancelled");
                            Ok(())
                        }
                    }
                }
                Ok(Meta::Packs(pack)) => {
                    let packs: Vec<String> = pack.into_iter().collect();
                    crate::detect::select(
                        rules.to_vec(),
                        &packs,
                        &[],
                        crate::detect::Severity::Info,
                    )
                    .and_then(|r| {
                        crate::detect::report::write_rule_list(&mut out, &r, Format::Table)
                    })
                }
                Ok(m) => command(ctx, m, &mut sink, &mut out).await,
                Err(e) => Err(anyhow::anyhow!(e)),
            }
        } else {
            tokio::select! {
                r = exec::run_sql(ctx, stmt, &sink, &mut out) => r,
                _ = sigint.recv() => {
                    crate::progress::note("cancelled");
                    Ok(())
                }
            }
        };
        if let Err(e) = result {
            let _ = out.flush();
            eprintln!("error: {e:#}");
        }
    }
    Ok(())
}

/// `\trace`, `\timeline` and `\summary` over the shell's session. The timeline and summary
/// mark what the detections flagged; the detections run once per shell (the lake does not change
/// under it) and their findings are kept in `flagged`.
async fn investigate(
    ctx: &SessionContext,
    rules: &[crate::detect::Rule],
    flagged: &mut Option<Vec<crate::detect::Finding>>,
    m: Meta,
    out: &mut dyn Write,
) -> Result<()> {
    use crate::investigate::render::{write_summaries, write_timeline, write_traces};
    use crate::investigate::timeline::{self, Pivot};
    if flagged.is_none() && !matches!(m, Meta::Trace(_)) {
        crate::progress::note("running the detections to mark what they flag (once per shell)…");
        let outcomes = crate::detect::run(
            ctx,
            rules.to_vec(),
            &crate::detect::Overrides::default(),
            |_| {},
        )
        .await;
        *flagged = Some(
            crate::detect::findings(&outcomes)
                .into_iter()
                .cloned()
                .collect(),
        );
    }
    let found: Vec<&crate::detect::Finding> = flagged.iter().flatten().collect();
    match m {
        Meta::Trace(what) => {
            let traced = crate::investigate::trace::traces(ctx, &what).await?;
            if traced.is_empty() {
                anyhow::bail!(
                    "nothing in the lake matches {what}: no key, ARN or principal id of that value"
                );
            }
            write_traces(out, &traced, Format::Table)?;
        }
        Meta::Timeline(kind, value) => {
            let pivot = match kind.as_str() {
                "actor" => Pivot::Actor(value),
                "key" => Pivot::Key(value),
                "ip" => Pivot::Ip(value),
                _ => Pivot::Resource(value),
            };
            let mut lines = timeline::timeline(ctx, &pivot, true).await?;
            timeline::mark(&mut lines, &found);
            write_timeline(out, &lines, Format::Table)?;
        }
        Meta::Summary(actor) => {
            let mut all =
                crate::investigate::summary::summaries(ctx, actor.as_deref(), &found).await?;
            all.truncate(20);
            write_summaries(out, &all, Format::Table)?;
        }
        _ => {}
    }
    out.flush()?;
    Ok(())
}

/// `\run`: one rule over the session, findings as the detect table (or to `\o`'s file as JSON).
async fn run_rule(
    ctx: &SessionContext,
    rules: &[crate::detect::Rule],
    id: &str,
    params: &[String],
    sink: &Sink,
    out: &mut dyn Write,
) -> Result<()> {
    let selected = crate::detect::select(
        rules.to_vec(),
        &[],
        &[id.to_owned()],
        crate::detect::Severity::Info,
    )?;
    let overrides = crate::detect::Overrides::parse(params)?;
    overrides.check(&selected)?;
    let started = std::time::Instant::now();
    let outcomes = crate::detect::run(ctx, selected, &overrides, |_| {}).await;
    if let Some(Err(e)) = outcomes.first().map(|o| &o.result) {
        anyhow::bail!("{e:#}");
    }
    let took = started.elapsed();
    match &sink.file {
        Some(path) => {
            if let Some(lake) = &sink.lake {
                crate::lake::ensure_outside(lake, path)?;
            }
            let format = Format::from_path(path).unwrap_or(Format::Json);
            let mut file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            crate::detect::report::write(&mut file, &outcomes, format, took, false)?;
            crate::progress::note(&format!("findings written to {}", path.display()));
        }
        None => crate::detect::report::write(out, &outcomes, Format::Table, took, false)?,
    }
    out.flush()?;
    Ok(())
}

async fn command(
    ctx: &SessionContext,
    m: Meta,
    sink: &mut Sink,
    out: &mut dyn Write,
) -> Result<()> {
    match m {
        Meta::Describe(None) | Meta::Tables => {
            let sql = "SELECT table_name AS name, table_type AS kind FROM information_schema.tables \
                       WHERE table_schema = 'public' ORDER BY table_name";
            exec::run_sql(ctx, sql, &listing(sink), out).await
        }
        Meta::Describe(Some(name)) => {
            let df = ctx
                .table(name.as_str())
                .await
                .map_err(|_| anyhow::anyhow!("no table or view named {name}; \\dt lists them"))?;
            let schema = df.schema();
            let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
            let types: Vec<String> = schema
                .fields()
                .iter()
                .map(|f| type_name(f.data_type()))
                .collect();
            let about: Vec<&str> = names
                .iter()
                .map(|n| crate::schema::column_about(n))
                .collect();
            print_rows(
                ctx,
                &["column", "type", "meaning"],
                vec![names, types, about.iter().map(|s| s.to_string()).collect()],
                sink,
                out,
            )
            .await
        }
        Meta::Functions => {
            let docs = crate::query::functions::DOCS;
            let mut names: Vec<String> = docs.iter().map(|d| d.name.to_owned()).collect();
            let mut sigs: Vec<String> = docs.iter().map(|d| d.signature.to_owned()).collect();
            let mut about: Vec<String> = docs.iter().map(|d| d.about.to_owned()).collect();
            for (n, s, a) in JSON_FUNCTIONS {
                names.push(n.to_string());
                sigs.push(s.to_string());
                about.push(a.to_string());
            }
            print_rows(
                ctx,
                &["function", "arguments", "does"],
                vec![names, sigs, about],
                sink,
                out,
            )
            .await
        }
        Meta::Timing => {
            sink.timing = !sink.timing;
            crate::progress::note(&format!(
                "timing is {}",
                if sink.timing { "on" } else { "off" }
            ));
            Ok(())
        }
        Meta::Format(f) => {
            sink.format = f;
            Ok(())
        }
        Meta::Output(file) => {
            if let (Some(lake), Some(f)) = (&sink.lake, &file) {
                crate::lake::ensure_outside(lake, f)?;
            }
            match &file {
                Some(p) => crate::progress::note(&format!("results go to {}", p.display())),
                None => crate::progress::note("results go to the screen"),
            }
            sink.file = file;
            Ok(())
        }
        Meta::Help => {
            writeln!(out, "{}", help())?;
            Ok(())
        }
        // Handled by the loop, which knows the rules and Ctrl-C.
        Meta::Quit
        | Meta::Packs(_)
        | Meta::Run(..)
        | Meta::Trace(_)
        | Meta::Timeline(..)
        | Meta::Summary(_) => Ok(()),
    }
}

/// The JSON functions of datafusion-functions-json that matter most here, for `\df`.
const JSON_FUNCTIONS: &[(&str, &str, &str)] = &[
    (
        "json_get_str",
        "(json, key…) -> string",
        "the string at a path of keys and indexes",
    ),
    (
        "json_get_int",
        "(json, key…) -> bigint",
        "the integer at a path",
    ),
    (
        "json_get_bool",
        "(json, key…) -> boolean",
        "the boolean at a path",
    ),
    (
        "json_get_json",
        "(json, key…) -> string",
        "the JSON text at a path",
    ),
    (
        "json_as_text",
        "(json, key…) -> string",
        "the value at a path as text, whatever its type",
    ),
    (
        "json_contains",
        "(json, key…) -> boolean",
        "whether the path exists",
    ),
    (
        "json_length",
        "(json, key…) -> bigint",
        "the length of the array or object at a path",
    ),
    ("->, ->>", "json -> 'key'", "operators: get JSON / get text"),
];

fn listing(sink: &Sink) -> Sink {
    Sink {
        file: None,
        timing: false,
        ..sink.clone()
    }
}

async fn print_rows(
    ctx: &SessionContext,
    headers: &[&str],
    columns: Vec<Vec<String>>,
    sink: &Sink,
    out: &mut dyn Write,
) -> Result<()> {
    let schema = Arc::new(Schema::new(
        headers
            .iter()
            .map(|h| Field::new(*h, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let arrays = columns
        .into_iter()
        .map(|c| Arc::new(StringArray::from(c)) as _)
        .collect();
    let batch = RecordBatch::try_new(schema, arrays)?;
    let stream = ctx.read_batch(batch)?.execute_stream().await?;
    let sink = listing(sink);
    output::write_stream(stream, sink.format, sink.max_width.max(100), out).await?;
    Ok(())
}

/// A type as a responder reads it: struct fields listed, long ones cut.
fn type_name(t: &DataType) -> String {
    match t {
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DataType::List(f) => format!("list<{}>", type_name(f.data_type())),
        DataType::Timestamp(_, Some(tz)) => format!("timestamp ({tz})"),
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => "string".into(),
        DataType::Dictionary(_, v) => type_name(v),
        other => other.to_string().to_ascii_lowercase(),
    }
}

/// Shell history: `$XDG_DATA_HOME/trailscope/history`, else `~/.local/share/trailscope/history`.
fn history_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("trailscope").join("history"))
}

/// Whether a line looks like it holds a credential: a secret access key or session token
/// (long base64 runs), or a password or secret assignment. Such lines stay out of the history.
pub fn looks_secret(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    if [
        "aws_secret_access_key",
        "secretaccesskey",
        "sessiontoken",
        "password=",
    ]
    .iter()
    .any(|k| lower.contains(k))
    {
        return true;
    }
    let mut run = 0;
    for c in line.chars() {
        if c.is_ascii_alphanumeric() || c == '/' || c == '+' || c == '=' {
            run += 1;
            if run >= 40 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// The tables and views of the session's catalog, by name.
fn table_names(ctx: &SessionContext) -> Vec<String> {
    let mut names: Vec<String> = ctx
        .catalog_names()
        .iter()
        .filter_map(|c| ctx.catalog(c))
        .flat_map(|cat| {
            cat.schema_names()
                .into_iter()
                .filter(|s| s != "information_schema")
                .filter_map(move |s| cat.schema(&s))
                .flat_map(|s| s.table_names())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

fn helper_for(ctx: &SessionContext) -> ShellHelper {
    let tables = table_names(ctx);
    let mut functions: Vec<String> = ctx.state().scalar_functions().keys().cloned().collect();
    functions.extend(ctx.state().aggregate_functions().keys().cloned());
    functions.extend(ctx.state().window_functions().keys().cloned());
    ShellHelper::new(tables, crate::schema::column_paths(), functions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_history() {
        assert!(looks_secret(
            "SELECT 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'"
        ));
        assert!(looks_secret("-- aws_secret_access_key = x"));
        assert!(!looks_secret(
            "SELECT eventname FROM cloudtrail WHERE eventname = 'GetSecretValue';"
        ));
        assert!(!looks_secret(
            "SELECT * FROM cloudtrail WHERE useridentity.accesskeyid = 'AKIAQXLEAKEDKEY7EXMP';"
        ));
    }
}
