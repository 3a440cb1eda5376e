//! Operator endpoints: liveness, readiness and metrics.

use std::time::Duration;

use arbor_app::ssr::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: the process is alive and serving.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database (and Redis, when configured) answer within two seconds.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let database = match tokio::time::timeout(CHECK_TIMEOUT, state.db().ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database check failed");
            "unavailable".to_owned()
        }
        Err(_) => "timeout".to_owned(),
    };
    let redis = match state.redis() {
        None => "not configured".to_owned(),
        // Through the breaker: while it is open, Redis counts as unavailable without a wait.
        Some(redis) => match redis
            .call("readiness", |mut con| async move {
                redis::cmd("PING").query_async::<String>(&mut con).await
            })
            .await
        {
            Some(_) => "ok".to_owned(),
            None => "unavailable".to_owned(),
        },
    };
    let ready = database == "ok" && (redis == "ok" || redis == "not configured");
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "database": database,
        "redis": redis,
    });
    (status, Json(body))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.db().pool_stats();
    metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(pool.idle));
    metrics::gauge!("db_pool_connections", "state" => "in_use")
        .set(f64::from(pool.size.saturating_sub(pool.idle)));
    let handle = crate::http::metrics::handle();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
}
