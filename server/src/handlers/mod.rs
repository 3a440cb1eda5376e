//! Request handlers, grouped by resource and API version.

pub mod ops;
pub mod v1;
