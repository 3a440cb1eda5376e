//! Reusable pieces of UI.

pub mod form;
pub mod islands;
pub mod layout;
pub mod redirect;
pub mod subject;
