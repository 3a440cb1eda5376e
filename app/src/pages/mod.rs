//! One module per page (or family of pages).

pub mod auth;
pub mod home;
pub mod not_found;
pub mod profile;
pub mod settings;
