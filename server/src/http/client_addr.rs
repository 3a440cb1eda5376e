//! Works out the client's address once per request and stores it as [`ClientAddr`] for the
//! sign-in throttle and logs.

use std::net::SocketAddr;

use arbor_services::auth::ClientAddr;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Whether `X-Forwarded-For` is believed (set when running behind the operator's own proxy).
#[derive(Clone, Copy)]
pub struct TrustProxy(pub bool);

pub async fn client_addr(
    State(trust): State<TrustProxy>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    let forwarded = trust
        .0
        .then(|| {
            req.headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                // The last hop is the one our proxy added; earlier ones are client-supplied.
                .and_then(|v| v.rsplit(',').next())
                .map(|s| s.trim().to_owned())
                .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
        })
        .flatten();
    if let Some(addr) = forwarded.or(peer) {
        req.extensions_mut().insert(ClientAddr(addr));
    }
    next.run(req).await
}
