//! Investigate wing: who is behind a key, what one actor did in time order, and who did what.
//!
//! Input: a query session ([`crate::query`]) and, for marking, the findings of [`crate::detect`].
//! Output: credential chains, timeline lines and actor summaries, and their renderings.
//!
//! - [`chains`]: credential chains from a temporary key back to its origin, and the
//!   `credential_chains` table every session has;
//! - [`trace`]: a key's, ARN's or principal's chains and everything their origin spawned;
//! - [`timeline`]: one pivot's events in time order, runs collapsed, detections marked;
//! - [`summary`]: per-actor summaries;
//! - [`render`]: the three as text for reading.
//!
//! This wing does not open sessions or choose where output goes; the front ends do.

pub mod chains;
pub mod render;
pub mod summary;
pub mod timeline;
pub mod trace;
