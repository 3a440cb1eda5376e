//! The types the browser and the server share, so a rule about what a value may be is written
//! once and holds on both sides: the shapes of pages and API bodies ([`content`]), inputs parsed
//! once at the edge into types that can only hold valid values ([`model`]: titles, usernames,
//! passwords, slugs…), the catalogue's search language ([`query`]), and what a person is told
//! when something fails ([`error`]).
//!
//! It builds for the browser (WebAssembly) as well as the server, so it does no I/O and knows
//! nothing of HTTP frameworks, storage or Leptos. Features: `server-fn` makes `AppError` a
//! Leptos server function's error (the app's), `schema` derives the OpenAPI schemas the server
//! publishes, `server` lets an edge log an internal cause.

pub mod content;
pub mod error;
pub mod model;
pub mod query;
