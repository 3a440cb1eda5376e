//! One module per page (or family of pages).

pub mod auth;
pub mod explore;
pub mod home;
pub mod map_editor;
pub mod map_upkeep;
pub mod not_found;
pub mod profile;
pub mod saved;
pub mod settings;
pub mod subject;
pub mod topic;
