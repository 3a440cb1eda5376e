//! The Arbor server: turns [`config::Settings`] into a running process — database and Redis
//! connections, the axum router (JSON API, operator endpoints, the Leptos pages and server
//! functions, static assets), the middleware stack, background upkeep and graceful shutdown.
//! Business rules live in `arbor-app` (`ssr` services) and SQL in `arbor-db`; this crate only
//! wires them to the network.
#![forbid(unsafe_code)]

pub mod config;
pub mod demo;
pub mod handlers;
pub mod http;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use arbor_app::ssr::AppState;
use arbor_app::{App, shell};
use arbor_db::{Db, DbOptions};
use arbor_services::{AuthPolicy, RedisHandle, Services};
use arbor_types::error::{AppError, ErrorCode};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::config::Settings;
use crate::http::client_addr::TrustProxy;
use crate::http::csrf::PublicOrigin;
use crate::http::error::ApiError;
use crate::http::form_errors::FormErrorKey;
use crate::http::security::CspNonce;

/// Largest request body accepted (413 above it).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Longest a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// After a shutdown signal, how long in-flight requests get before the process exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Connects to the database (running migrations) and Redis, as configured.
pub async fn connect(settings: &Settings) -> anyhow::Result<(Db, Option<RedisHandle>)> {
    let db = Db::connect(settings.database_url.expose(), &DbOptions::default())
        .await
        .with_context(|| {
            format!(
                "connecting to the database at {}",
                settings.database_url.redacted()
            )
        })?;
    db.migrate().await.context("applying database migrations")?;
    let redis = match &settings.redis_url {
        None => None,
        Some(url) => {
            let client = redis::Client::open(url.expose())
                .with_context(|| format!("reading REDIS_URL {}", url.redacted()))?;
            Some(RedisHandle::connect(client, settings.redis_prefix.clone()).await)
        }
    };
    Ok((db, redis))
}

/// The Leptos options: the site's files come from `LEPTOS_SITE_ROOT` (cargo-leptos sets it;
/// `target/site` otherwise); the bundle is always named `arbor`. Its files carry the hash of
/// their content exactly when the build wrote their hashes (`hash.txt` beside this binary, as
/// cargo-leptos does with `hash-files`), whatever `LEPTOS_HASH_FILES` says: pages then name
/// the hashed files, and a binary started without the file still serves plain names.
fn leptos_options() -> anyhow::Result<LeptosOptions> {
    let mut options = leptos::config::get_configuration(None)
        .context("reading the LEPTOS_* settings")?
        .leptos_options;
    if options.output_name.is_empty() {
        options.output_name = "arbor".into();
    }
    options.hash_files = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(&*options.hash_file)))
        .is_some_and(|file| file.is_file());
    Ok(options)
}

/// Builds the application state from settings and open connections.
pub fn state(settings: &Settings, db: Db, redis: Option<RedisHandle>) -> anyhow::Result<AppState> {
    let policy = AuthPolicy {
        secure_cookies: settings
            .public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https"),
        throttle_window: settings.login_window_secs,
        max_failures_per_user: settings.login_max_per_user,
        max_failures_per_client: settings.login_max_per_client,
        max_signups_per_client: settings.signup_max_per_client,
        max_sockets: arbor_live::SocketCaps {
            per_client: settings.collab_sockets_per_client as usize,
            per_user: settings.collab_sockets_per_user as usize,
        },
        ..AuthPolicy::default()
    };
    let services = Services::new(db, redis, policy, settings.page_cache_mib * 1024 * 1024);
    Ok(AppState::new(services, leptos_options()?))
}

/// The app's page routes, generated once per process. Generating them renders the app with
/// resource loading switched off process-wide (a global flag in Leptos), so a second
/// generation while another server in the same process renders pages (tests run many) would
/// leave that render waiting forever.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The OpenAPI document of `/api/v1`, as served at `/api/v1/openapi.json`.
pub fn openapi_json() -> anyhow::Result<String> {
    handlers::v1::router()
        .1
        .to_pretty_json()
        .context("serialising the OpenAPI document")
}

/// The whole HTTP application.
pub fn router(settings: &Settings, state: AppState, form_errors: FormErrorKey) -> Router {
    // Install the metrics recorder before the first request is counted.
    http::metrics::handle();
    let (api, openapi) = handlers::v1::router();
    let openapi_json = openapi.to_json().unwrap_or_else(|_| "{}".to_owned());
    let api = api
        .route(
            "/openapi.json",
            get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    openapi_json,
                )
            }),
        )
        .fallback(|| async { ApiError(AppError::not_found("No such API endpoint.")) })
        .method_not_allowed_fallback(|| async {
            ApiError(AppError::new(
                ErrorCode::MethodNotAllowed,
                "This endpoint does not take that method.",
            ))
        });

    let leptos_options = state.leptos_options().clone();
    let routes = route_list();
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            // Leptos stamps its scripts with the nonce the CSP header names.
            let nonce = leptos::prelude::use_context::<axum::http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
            if let Some(CspNonce(nonce)) = nonce {
                provide_context(leptos::nonce::Nonce::from_value(nonce));
            }
        }
    };
    let public_origin = PublicOrigin(
        settings
            .public_url
            .as_ref()
            .map(|u| u.origin().ascii_serialization()),
    );

    let app = Router::new()
        .route("/healthz", get(handlers::ops::healthz))
        .route("/readyz", get(handlers::ops::readyz))
        .route("/metrics", get(handlers::ops::metrics))
        .route("/collab/{doc}", get(handlers::collab::connect))
        .nest("/api/v1", api)
        .merge(http::assets::routes(
            std::path::Path::new(&*leptos_options.site_root),
            &leptos_options.site_pkg_dir,
        ))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(axum::middleware::from_fn(http::server_fns::error_status))
        .layer(axum::middleware::from_fn_with_state(
            form_errors,
            http::form_errors::sign_and_verify,
        ))
        .layer(axum::middleware::from_fn(
            http::security::no_store_when_credentialed,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::page_cache::serve,
        ))
        .layer(axum::middleware::from_fn(
            http::security::content_security_policy,
        ))
        .layer(axum::middleware::from_fn(http::metrics::record))
        .layer(axum::middleware::from_fn_with_state(
            public_origin.clone(),
            http::csrf::refuse_cross_site,
        ))
        .layer(axum::Extension(public_origin))
        .layer(axum::middleware::from_fn_with_state(
            TrustProxy(settings.trust_proxy),
            http::client_addr::client_addr,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Bodies without a Content-Length are cut off while streaming; declared ones are
        // refused up front, in our error shape.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        .layer(axum::middleware::from_fn(refuse_large_bodies))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    http::security::layer(app)
        .layer(CompressionLayer::new())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::extract::Request| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    // The path only: query strings can carry secrets (`?token=`).
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), id)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Answers 413 in the API's error shape when the declared body is over [`MAX_BODY_BYTES`].
async fn refuse_large_bodies(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        let mut response = axum::response::IntoResponse::into_response(ApiError(AppError::new(
            ErrorCode::TooLarge,
            format!("The request body is over the limit of {MAX_BODY_BYTES} bytes."),
        )));
        // The body is left unread, so this connection cannot carry another request.
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return response;
    }
    next.run(req).await
}

/// Periodic clean-up: lapsed sessions and closed throttle windows.
fn spawn_upkeep(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            let now = arbor_services::now_ms();
            let idle_cutoff = state.policy().idle_cutoff(now);
            match state.db().delete_expired_sessions(now, idle_cutoff).await {
                Ok(n) if n > 0 => tracing::info!(removed = n, "lapsed sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "removing lapsed sessions failed"),
            }
            if let Err(e) = state.throttle().prune().await {
                tracing::warn!(error = %e, "pruning the sign-in throttle failed");
            }
        }
    })
}

/// Logs what seeding the demo subject did.
pub fn report_seed(seeded: demo::Seeded) {
    match seeded {
        demo::Seeded::Created { slug, topics } => {
            tracing::info!(%slug, topics, "demo subject loaded")
        }
        demo::Seeded::AlreadyThere { slug } => {
            tracing::info!(%slug, "demo subject already there")
        }
    }
}

/// `arbor seed-demo`: connects, migrates and loads the demo subject.
pub async fn seed_demo(settings: &Settings) -> anyhow::Result<()> {
    let (db, redis) = connect(settings).await?;
    let state = state(settings, db.clone(), redis)?;
    let result = demo::seed(&state).await;
    db.close().await;
    report_seed(result?);
    Ok(())
}

/// Serves `settings` on `listener` until `shutdown` resolves, then finishes in-flight requests
/// and closes the database.
pub async fn serve(
    settings: Settings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (db, redis) = connect(&settings).await?;
    let form_errors = FormErrorKey::new(
        db.server_secret("form-errors", &rand::random::<[u8; 32]>())
            .await
            .context("loading the shared form-error key")?,
    );
    let state = state(&settings, db.clone(), redis)?;
    if settings.seed_demo {
        report_seed(demo::seed(&state).await?);
    }
    let upkeep = spawn_upkeep(state.clone());
    let host = std::sync::Arc::new(arbor_services::live::Host(state.services().clone()));
    let collab_upkeep = state
        .collab()
        .spawn_upkeep(state.bus(), host.clone(), host.clone());
    let app = router(&settings, state.clone(), form_errors);
    tracing::info!(
        addr = %listener.local_addr().context("reading the bound address")?,
        database = %settings.database_url.redacted(),
        redis = settings.redis_url.is_some(),
        "arbor is serving"
    );
    let (signalled, mut on_signal) = tokio::sync::watch::channel(false);
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        let _ = signalled.send(true);
    });
    // In-flight requests finish; a connection that never does cannot hold the process.
    let deadline = async move {
        let _ = on_signal.wait_for(|s| *s).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = server.into_future() => served.context("serving HTTP")?,
        () = deadline => tracing::warn!(
            grace = ?SHUTDOWN_GRACE,
            "connections still open after the grace period; closing them"
        ),
    }
    upkeep.abort();
    collab_upkeep.abort();
    state.collab().shutdown(host.as_ref()).await;
    // Connections still held by abandoned requests must not keep the process alive.
    if tokio::time::timeout(Duration::from_secs(5), db.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections still in use at exit");
    }
    tracing::info!("arbor stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
