//! Request handlers, grouped by resource and API version.

pub mod collab;
pub mod ops;
pub mod v1;
