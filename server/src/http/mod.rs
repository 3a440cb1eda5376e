//! The HTTP middleware stack: client address, cross-site request refusal, security headers and
//! request metrics, and the status of server function errors.

pub mod client_addr;
pub mod csrf;
pub mod metrics;
pub mod security;
pub mod server_fns;
