//! Typed settings: command-line flags with environment fallbacks. A bad value stops start-up
//! with one line naming the setting (flag and variable) and exit code 2.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// The `arbor` command line.
#[derive(Debug, Parser)]
#[command(
    name = "arbor",
    version,
    about = "Arbor: learn and teach through mind maps"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the OpenAPI document of the JSON API and exit.
    Openapi,
    /// Load the demo subject ("Distributed systems") unless it is there, and exit.
    SeedDemo,
}

/// Where the log goes and how it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A connection URL whose password never reaches a log line or `Debug` output.
#[derive(Clone)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            _ => self.0.clone(),
        }
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn parse_database_url(raw: &str) -> Result<SecretUrl, String> {
    arbor_db::check_url(raw).map(|_| SecretUrl(raw.to_owned()))
}

fn parse_redis_url(raw: &str) -> Result<SecretUrl, String> {
    let u = url::Url::parse(raw).map_err(|e| format!("not a valid URL ({e})"))?;
    match u.scheme() {
        "redis" | "rediss" | "redis+unix" | "unix" => Ok(SecretUrl(raw.to_owned())),
        other => Err(format!("expected a redis:// URL, not {other}://")),
    }
}

fn parse_public_url(raw: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(raw).map_err(|e| format!("not a valid URL ({e})"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
        return Err("expected an http:// or https:// URL with a host".to_owned());
    }
    if u.path() != "/" || u.query().is_some() {
        return Err("expected an origin only, like https://arbor.example.org".to_owned());
    }
    Ok(u)
}

fn parse_positive_secs(raw: &str) -> Result<Duration, String> {
    match raw.parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_secs(n)),
        _ => Err("expected a whole number of seconds above 0".to_owned()),
    }
}

fn parse_positive(raw: &str) -> Result<u32, String> {
    match raw.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("expected a whole number above 0".to_owned()),
    }
}

fn parse_mib(raw: &str) -> Result<usize, String> {
    match raw.parse::<usize>() {
        Ok(n) if (1..=1 << 20).contains(&n) => Ok(n),
        _ => Err("expected a whole number of MiB from 1 to 1048576".to_owned()),
    }
}

/// Everything `arbor serve` is configured with.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on.
    #[arg(
        long,
        env = "ARBOR_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Database: sqlite://PATH (created on first run) or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/arbor.db", value_parser = parse_database_url, global = true)]
    pub database_url: SecretUrl,

    /// Redis for fan-out and shared counters between replicas (optional).
    #[arg(long, env = "REDIS_URL", value_parser = parse_redis_url, global = true)]
    pub redis_url: Option<SecretUrl>,

    /// Prefix for every Redis key and channel this deployment uses.
    #[arg(
        long,
        env = "ARBOR_REDIS_PREFIX",
        default_value = "arbor:",
        global = true
    )]
    pub redis_prefix: String,

    /// The public origin people reach the site at (Origin checks; Secure cookies when https).
    #[arg(long, env = "ARBOR_PUBLIC_URL", value_parser = parse_public_url, global = true)]
    pub public_url: Option<url::Url>,

    /// Trust `X-Forwarded-For` for the client address (only behind your own proxy).
    #[arg(long, env = "ARBOR_TRUST_PROXY", global = true)]
    pub trust_proxy: bool,

    /// Load the demo subject at start-up unless it is there (as `arbor seed-demo` does).
    #[arg(long, env = "ARBOR_SEED_DEMO", global = true)]
    pub seed_demo: bool,

    /// Sign-in throttle window in seconds.
    #[arg(long, env = "ARBOR_LOGIN_WINDOW_SECS", default_value = "900", value_parser = parse_positive_secs, global = true)]
    pub login_window_secs: Duration,

    /// Failed sign-ins allowed per username per window.
    #[arg(long, env = "ARBOR_LOGIN_MAX_PER_USER", default_value = "10", value_parser = parse_positive, global = true)]
    pub login_max_per_user: u32,

    /// Failed sign-ins allowed per client address per window.
    #[arg(long, env = "ARBOR_LOGIN_MAX_PER_CLIENT", default_value = "100", value_parser = parse_positive, global = true)]
    pub login_max_per_client: u32,

    /// Sign-up attempts allowed per client address per window.
    #[arg(long, env = "ARBOR_SIGNUP_MAX_PER_CLIENT", default_value = "20", value_parser = parse_positive, global = true)]
    pub signup_max_per_client: u32,

    /// Memory for the public page cache, in MiB (pages and their keys).
    #[arg(long, env = "ARBOR_PAGE_CACHE_MIB", default_value = "64", value_parser = parse_mib, global = true)]
    pub page_cache_mib: usize,

    /// Live-editing sockets (`/collab`) open at once per client address, per replica.
    #[arg(long, env = "ARBOR_COLLAB_SOCKETS_PER_CLIENT", default_value = "256", value_parser = parse_positive, global = true)]
    pub collab_sockets_per_client: u32,

    /// Live-editing sockets open at once per account, per replica.
    #[arg(long, env = "ARBOR_COLLAB_SOCKETS_PER_USER", default_value = "32", value_parser = parse_positive, global = true)]
    pub collab_sockets_per_user: u32,

    /// Log format.
    #[arg(
        long,
        env = "ARBOR_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
}

impl Settings {
    /// Settings with every default, for tests and embedding.
    pub fn defaults() -> Self {
        Cli::parse_from(["arbor"]).settings
    }
}

/// Parses the command line and environment. On a bad value, prints one line naming the
/// setting and exits with code 2; `--help` and `--version` print and exit 0.
pub fn parse() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            use clap::error::{ContextKind, ContextValue, ErrorKind};
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) {
                err.exit();
            }
            let arg = match err.get(ContextKind::InvalidArg) {
                Some(ContextValue::String(s)) => Some(s.clone()),
                _ => None,
            };
            let env = arg.as_deref().and_then(env_for_arg);
            let detail = match err.get(ContextKind::InvalidValue) {
                Some(ContextValue::String(v)) => {
                    let reason = err
                        .to_string()
                        .lines()
                        .next()
                        .and_then(|l| l.rsplit_once(": ").map(|(_, r)| r.to_owned()))
                        .unwrap_or_default();
                    format!("invalid value {v:?}: {reason}")
                }
                _ => err
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("invalid arguments")
                    .trim_start_matches("error: ")
                    .to_owned(),
            };
            match (arg, env) {
                (Some(arg), Some(env)) => eprintln!("arbor: {arg} / {env}: {detail}"),
                (Some(arg), None) => eprintln!("arbor: {arg}: {detail}"),
                _ => eprintln!("arbor: {detail}"),
            }
            std::process::exit(2);
        }
    }
}

/// The environment variable behind a flag as clap names it (`--addr <ADDR>`).
fn env_for_arg(arg: &str) -> Option<String> {
    let long = arg.trim_start_matches("--").split([' ', '=']).next()?;
    Cli::command()
        .get_arguments()
        .find(|a| a.get_long() == Some(long))
        .and_then(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted_in_debug_output() {
        let url = parse_database_url("postgres://arbor:s3cret@db.internal/arbor").unwrap();
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(format!("{url:?}").contains("***"));
        assert_eq!(url.expose(), "postgres://arbor:s3cret@db.internal/arbor");
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(parse_database_url("mysql://x").is_err());
        assert!(parse_database_url("sqlite://x.db?mode=bogus").is_err());
        assert!(parse_database_url("postgres://h/db?sslmode=bogus").is_err());
        assert!(parse_database_url("sqlite://data/arbor.db").is_ok());
        assert!(parse_redis_url("http://x").is_err());
        assert!(parse_public_url("https://x.org/app").is_err());
        assert!(parse_public_url("ftp://x.org").is_err());
        assert!(parse_positive_secs("0").is_err());
        assert_eq!(env_for_arg("--addr <ADDR>").as_deref(), Some("ARBOR_ADDR"));
    }

    #[test]
    fn defaults_match_the_contract() {
        if ["ARBOR_ADDR", "DATABASE_URL", "REDIS_URL"]
            .iter()
            .any(|v| std::env::var_os(v).is_some())
        {
            return; // the environment overrides the defaults this test is about
        }
        let s = Settings::defaults();
        assert_eq!(s.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(s.database_url.expose(), "sqlite://data/arbor.db");
        assert!(s.redis_url.is_none());
    }
}
