//! The HTTP middleware stack: client address, cross-site request refusal, security headers and
//! request metrics, the status of server function errors, signed form errors, and the public
//! page cache; and the browser's bundles with their cache headers.

pub mod assets;
pub mod caller;
pub mod client_addr;
pub mod csrf;
pub mod error;
pub mod form_errors;
pub mod metrics;
pub mod page_cache;
pub mod security;
pub mod server_fns;
