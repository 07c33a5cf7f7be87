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
