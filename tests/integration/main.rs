//! Integration and command-line tests: one test binary, so the suite links once.

mod architecture;
mod chains;
mod cli;
mod cluster;
mod common;
mod crash;
mod detect;
mod lake;
mod lossless;
mod properties;
mod repl;
mod roles;
mod rules;
mod s3;
mod s3server;
mod sql;
mod stratus;
mod verify;
