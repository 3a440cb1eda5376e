//! Reusable pieces of UI.

pub mod form;
pub mod islands;
pub mod layout;
#[cfg(feature = "hydrate")]
mod map_tree;
pub mod redirect;
pub mod subject;
