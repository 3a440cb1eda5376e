//! Reusable pieces of UI.

pub mod form;
pub mod islands;
pub mod layout;
#[cfg(feature = "hydrate")]
mod map_reader;
pub mod redirect;
pub mod subject;
