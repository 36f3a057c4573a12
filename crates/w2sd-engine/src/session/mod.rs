//! Debate sessions: the versioned schema and the atomic store.

pub mod export;
pub mod schema;
pub mod store;

pub use schema::*;
pub use store::{load, save, SessionError};
