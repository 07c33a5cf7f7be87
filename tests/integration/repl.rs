//! The interactive shell driven by a script: multi-line statements, backslash commands, an
//! error that does not end the session, and Ctrl-C cancelling a running query.

use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;

#[test]
fn a_scripted_session_runs_statements_commands_errors_and_cancels() {
    let src = tempfile::tempdir().unwrap();
    let stats = generate(
        src.path(),
        &trailscope::synth::Config {
            events: 300,
            days: 1,
            ..Default::default()
        },
    );
    let lake = tempfile::tempdir().unwrap();
    ingest_ok(src.path(), lake.path());
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailscope"))
        .args(["sql", "-i", "--lake", lake.path().to_str().unwrap()])
        .env("XDG_DATA_HOME", data.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Stderr is read on a thread so the test can wait for the error line that precedes the long
    // query, however slow the machine.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap();
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    writeln!(stdin, "\\format csv\nSELECT count(*)\n  AS n\n  FROM cloudtrail;\n\\dt\nSELECT eventnme FROM cloudtrail;").unwrap();
    // A query that would run for hours, then Ctrl-C once it is running.
    writeln!(
        stdin,
        "SELECT count(*) FROM generate_series(1, 100000000000);"
    )
    .unwrap();
    stdin.flush().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !rx
        .recv_timeout(Duration::from_secs(60))
        .is_ok_and(|l| l.contains("eventnme"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the shell never reported the error"
        );
    }
    std::thread::sleep(Duration::from_millis(1000));
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    writeln!(stdin, "SELECT 42 AS answer;\n\\q").unwrap();
    drop(stdin);
    let status = wait_with_timeout(&mut child, Duration::from_secs(60));
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let err = reader.join().unwrap();
    assert_eq!(status, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains(&format!("n\n{}\n", stats.events)),
        "multi-line statement:\n{out}"
    );
    assert!(
        out.contains("cloudtrail,BASE TABLE") && out.contains("lambda_events,VIEW"),
        "\\dt:\n{out}"
    );
    assert!(
        err.contains("eventnme") && err.to_lowercase().contains("did you mean"),
        "error line:\n{err}"
    );
    assert!(err.contains("cancelled"), "Ctrl-C:\n{err}");
    assert!(
        out.contains("answer\n42\n"),
        "the shell goes on after an error and a cancel:\n{out}"
    );
}

fn wait_with_timeout(child: &mut std::process::Child, limit: Duration) -> Option<i32> {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
