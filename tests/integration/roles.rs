//! Cluster roles as child processes, shared by the cluster tests and the cluster benchmark: a
//! guard that stops a role when it goes out of scope, and free ports.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

/// A role process, stopped when dropped (a failing test leaves no scheduler behind).
pub struct Role(pub Child);

impl Drop for Role {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free port whose next port is free too (an executor takes PORT and PORT + 1).
pub fn free_port_pair() -> u16 {
    for _ in 0..50 {
        let a = TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = a.local_addr().expect("its address").port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no two free ports in a row");
}

/// Starts `bin` with `args` and `env`, its stderr into `stderr`.
pub fn start(bin: &str, args: &[&str], env: &[(&str, &str)], stderr: Stdio) -> Role {
    let mut cmd = Command::new(bin);
    cmd.args(args).stdout(Stdio::null()).stderr(stderr);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Role(cmd.spawn().expect("a cluster role starts"))
}

/// The arguments of an executor of the scheduler at `scheduler` with `slots` task slots, on a
/// free port of 127.0.0.1.
pub fn executor_args(scheduler: &str, slots: u32) -> Vec<String> {
    let bind = format!("127.0.0.1:{}", free_port_pair());
    [
        "cluster",
        "executor",
        "--scheduler",
        scheduler,
        "--bind",
        &bind,
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(["--slots".to_owned(), slots.to_string()])
    .collect()
}

/// Waits up to a minute for `executors` executors to register with the scheduler at `at`
/// (`df://host:port`): the cluster's status as JSON, or the last `cluster status` output.
pub fn wait_for_executors(
    bin: &str,
    at: &str,
    executors: usize,
) -> Result<serde_json::Value, std::process::Output> {
    let started = std::time::Instant::now();
    loop {
        let out = Command::new(bin)
            .args(["cluster", "status", "--cluster", at, "--format", "json"])
            .output()
            .expect("cluster status");
        if out.status.code() == Some(0)
            && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout)
            && v["executors"]
                .as_array()
                .is_some_and(|e| e.len() == executors)
        {
            return Ok(v);
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            return Err(out);
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}
