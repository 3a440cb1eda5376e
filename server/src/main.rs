//! `arbor`: the server binary. See the crate docs of the `arbor` library for what it wires up.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use anyhow::Context as _;
use arbor::config::{self, Command, LogFormat};
use tracing_subscriber::EnvFilter;

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = config::parse();
    init_logging(cli.settings.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.settings).await,
        Command::Migrate => arbor::connect(&cli.settings).await.map(|_| {
            tracing::info!("migrations applied");
        }),
        Command::Openapi => arbor::openapi_json().map(|doc| println!("{doc}")),
        Command::SeedDemo => arbor::seed_demo(&cli.settings).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arbor: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: config::Settings) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .with_context(|| format!("listening on {}", settings.addr))?;
    arbor::serve(settings, listener, arbor::shutdown_signal()).await
}
