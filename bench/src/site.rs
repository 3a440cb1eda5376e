//! What the benches that drive a running server share: an account made over the JSON API (a
//! browser-like client with its session cookie and our origin), subjects filled by importing a
//! Markdown list, and the server's resident memory read from `/proc`.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// A signed-in client of a running server.
pub struct Site {
    pub base: String,
    pub http: reqwest::Client,
}

impl Site {
    /// Signs up a fresh account named `{prefix}{random}` at `base`.
    pub async fn sign_up(base: &str, prefix: &str) -> Result<Site> {
        let site = Site {
            base: base.to_owned(),
            http: reqwest::Client::builder().cookie_store(true).build()?,
        };
        let username = format!("{prefix}{}", rand::random::<u32>());
        site.post(
            "/auth/signup",
            json!({"username": username, "password": "mossy granite lantern 42"}),
        )
        .await
        .context("signing up")?;
        Ok(site)
    }

    /// `POST /api/v1{path}` with a JSON body; the answer's JSON, or the error it gave.
    pub async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let response = self
            .http
            .post(format!("{}/api/v1{path}", self.base))
            .header("origin", &self.base)
            .json(&body)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("{path}: {} {}", response.status(), response.text().await?);
        }
        Ok(response.json().await?)
    }

    /// A new subject (`extra` fields beside its title) holding `list`, a Markdown list, under
    /// its root; its slug.
    pub async fn subject_with(&self, title: &str, extra: Value, list: &str) -> Result<String> {
        let mut body = json!({"title": title});
        if let (Some(fields), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            fields.extend(extra.clone());
        }
        let subject = self.post("/subjects", body).await?;
        let slug = subject["slug"].as_str().context("no slug")?.to_owned();
        self.post(
            &format!("/subjects/{slug}/imports"),
            json!({"format": "markdown", "filename": "bench.md", "content": list}),
        )
        .await
        .context("importing")?;
        Ok(slug)
    }
}

/// The resident memory of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .context("no VmRSS")
}
