//! The server-rendered pages and their form posts, exactly as a browser without JavaScript
//! sends them; cross-site refusal; security headers.

mod common;

use common::{Backend, GOOD_PASSWORD, TestApp, backends};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION, REFERER};

/// Posts a form to a server function the way a browser does without JavaScript.
async fn post_form(
    app: &TestApp,
    client: &reqwest::Client,
    endpoint: &str,
    referer: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(app.url(endpoint))
        .header(ACCEPT, "text/html,application/xhtml+xml")
        .header(REFERER, app.url(referer))
        .header("sec-fetch-site", "same-origin")
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// Whether `html` has an element with `data-testid="{id}"` whose text starts with `text`.
fn has_testid_text(html: &str, id: &str, text: &str) -> bool {
    html.match_indices(&format!(r#"data-testid="{id}""#))
        .any(|(at, _)| {
            html[at..]
                .split_once('>')
                .is_some_and(|(_, rest)| rest.starts_with(text))
        })
}

async fn page(client: &reqwest::Client, url: &str) -> (StatusCode, String) {
    let r = client.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn sign_up_and_in_without_javascript() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let browser = app.new_client();

        let (status, html) = page(&browser, &app.url("/signup")).await;
        assert_eq!(status, 200);
        assert!(
            html.contains(r#"action="/fn/signup""#),
            "the form posts without JavaScript"
        );
        assert!(html.contains(r#"name="username""#) && html.contains(r#"name="password""#));

        let r = post_form(
            &app,
            &browser,
            "/fn/signup",
            "/signup",
            &[
                ("username", "plainform"),
                ("password", GOOD_PASSWORD),
                ("next", "/"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(r.headers()[LOCATION], "/");
        assert!(
            r.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .starts_with("arbor_session=")
        );

        let (_, home) = page(&browser, &app.url("/")).await;
        assert!(
            has_testid_text(&home, "header-username", "plainform<"),
            "the header names the signed-in user"
        );

        let r = post_form(&app, &browser, "/fn/logout", "/", &[]).await;
        assert_eq!(r.status(), StatusCode::FOUND);
        let (_, home) = page(&browser, &app.url("/")).await;
        assert!(!home.contains("header-username"));
        assert!(home.contains(r#"href="/login""#));

        let r = post_form(
            &app,
            &browser,
            "/fn/login",
            "/login?next=/settings",
            &[
                ("username", "PlainForm"),
                ("password", GOOD_PASSWORD),
                ("next", "/settings"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(r.headers()[LOCATION], "/settings");
        let (status, settings) = page(&browser, &app.url("/settings")).await;
        assert_eq!(status, 200);
        assert!(settings.contains("Personal access tokens"));
        app.stop().await;
    }
}

#[tokio::test]
async fn form_errors_come_back_inline_without_javascript() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    app.signup(&app.new_client(), "existing", GOOD_PASSWORD)
        .await;
    let browser = app.new_client();

    let r = post_form(
        &app,
        &browser,
        "/fn/signup",
        "/signup",
        &[("username", "Existing"), ("password", GOOD_PASSWORD)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let back = r.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        back.starts_with(&app.url("/signup?")) && back.contains("__err="),
        "{back}"
    );
    assert!(
        r.headers().get("set-cookie").is_none(),
        "a refused sign-up signs nobody in"
    );
    let (_, html) = page(&browser, &back).await;
    assert!(
        html.contains("That username is taken."),
        "the error is shown inline"
    );
    assert!(has_testid_text(
        &html,
        "error-username",
        "That username is taken."
    ));

    let r = post_form(
        &app,
        &browser,
        "/fn/login",
        "/login",
        &[("username", "existing"), ("password", "wrong password")],
    )
    .await;
    let back = r.headers()[LOCATION].to_str().unwrap().to_owned();
    let (_, html) = page(&browser, &back).await;
    assert!(html.contains("Wrong username or password."));
    let (_, home) = page(&browser, &app.url("/")).await;
    assert!(
        !home.contains("header-username"),
        "a wrong password signs nobody in"
    );
    app.stop().await;
}

#[tokio::test]
async fn open_redirects_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    for (i, next) in [
        "//evil.example/x",
        "/\t/evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/\n",
    ]
    .into_iter()
    .enumerate()
    {
        let browser = app.new_client();
        let name = format!("redir{i}");
        let r = post_form(
            &app,
            &browser,
            "/fn/signup",
            "/signup",
            &[
                ("username", &name),
                ("password", GOOD_PASSWORD),
                ("next", next),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FOUND, "{next:?}");
        assert_eq!(r.headers()[LOCATION], "/", "{next:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    let victim = app.new_client();
    app.signup(&victim, "victim2", GOOD_PASSWORD).await;
    let session = victim.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(session.status(), 200);

    // Another site's page posting with the victim's cookie.
    let evil = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = victim
        .post(app.url("/fn/logout"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    assert_eq!(
        victim
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "still signed in"
    );

    // Login CSRF (no cookie yet) is refused too.
    let r = evil
        .post(app.url("/fn/login"))
        .header("origin", "https://evil.example")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("username=victim2&password={GOOD_PASSWORD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // JSON API with the cookie from a foreign Origin.
    let r = victim
        .patch(app.url("/api/v1/me"))
        .header("origin", "http://127.0.0.1:1")
        .json(&serde_json::json!({"bio": "pwned"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let me: serde_json::Value = victim
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["bio"], "", "nothing changed");
    app.stop().await;
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_nonce_policy() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    let r = app.client.get(app.url("/login")).send().await.unwrap();
    let h = r.headers().clone();
    let html = r.text().await.unwrap();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(
        !csp.contains("'unsafe-inline'") && !csp.contains("'unsafe-eval'"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap();
    assert!(
        html.contains(&format!(r#"nonce="{nonce}""#)),
        "the hydration script carries the nonce"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(h["x-frame-options"], "DENY");

    // A second response gets a different nonce.
    let again = app.client.get(app.url("/login")).send().await.unwrap();
    assert_ne!(
        again.headers()["content-security-policy"],
        h["content-security-policy"]
    );

    // JSON responses allow nothing at all.
    let r = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(
        r.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    app.stop().await;
}

#[tokio::test]
async fn profile_pages_and_unknown_pages() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    app.signup(&app.new_client(), "grace", GOOD_PASSWORD).await;
    let (status, html) = page(&app.client, &app.url("/u/grace")).await;
    assert_eq!(status, 200);
    assert!(has_testid_text(&html, "profile-name", "grace<"));
    assert!(
        html.contains("<title>grace · Arbor</title>"),
        "pages carry titles"
    );
    let (status, _) = page(&app.client, &app.url("/u/nobody-here")).await;
    assert_eq!(status, 404);
    let (status, _) = page(&app.client, &app.url("/no/such/page")).await;
    assert_eq!(status, 404);
    // Signed out, settings sends you to sign in.
    let r = app
        .client
        .get(app.url("/settings"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()[LOCATION], "/login?next=/settings");
    app.stop().await;
}

#[tokio::test]
async fn responses_are_compressed() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    for encoding in ["gzip", "br"] {
        let r = reqwest::Client::new()
            .get(app.url("/api/v1/openapi.json"))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-encoding"], encoding);
    }
    app.stop().await;
}

#[tokio::test]
async fn server_function_errors_carry_their_status() {
    let app = TestApp::spawn(Backend::Sqlite, &["--login-max-per-user", "2"]).await;
    app.signup(&app.new_client(), "fnstatus", GOOD_PASSWORD)
        .await;
    // As the hydrated app calls them (no `Accept: text/html`).
    let call = |fields: &'static [(&'static str, &'static str)]| {
        let client = app.new_client();
        let url = app.url("/fn/login");
        async move { client.post(url).form(fields).send().await.unwrap() }
    };
    let wrong: &[(&str, &str)] = &[("username", "fnstatus"), ("password", "wrong password")];
    for _ in 0..2 {
        let r = call(wrong).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], "unauthenticated");
        assert_eq!(body["field"], "password");
    }
    let r = call(wrong).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    let r = call(&[("username", "x"), ("password", "")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

#[tokio::test]
async fn a_token_created_without_javascript_is_shown_once() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    let browser = app.new_client();
    app.signup(&browser, "nojstoken", GOOD_PASSWORD).await;
    let r = post_form(
        &app,
        &browser,
        "/fn/tokens/create",
        "/settings",
        &[("name", "laptop")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("Path=/settings") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let secret = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("arbor_new_token=")
        .to_owned();
    assert!(secret.starts_with("arbor_pat_"));

    let (_, html) = page(&browser, &app.url("/settings")).await;
    assert!(
        has_testid_text(&html, "new-token", &secret),
        "the secret is shown"
    );
    let (_, html) = page(&browser, &app.url("/settings")).await;
    assert!(!html.contains(&secret), "and only once");

    let r = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the token works");
    app.stop().await;
}

#[tokio::test]
async fn forged_form_errors_in_links_are_not_shown() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    let browser = app.new_client();
    // A genuine error, signed by the server on its way back to the form…
    let r = post_form(
        &app,
        &browser,
        "/fn/login",
        "/login",
        &[("username", "nobody"), ("password", "wrong password")],
    )
    .await;
    let back = r.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(back.contains("__sig="), "{back}");
    let (_, html) = page(&browser, &back).await;
    assert!(html.contains("Wrong username or password."));

    // …and the same link with a message of someone else's choosing.
    let forged_err = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE.encode(
            r#"{"code":"unauthenticated","message":"Your account is locked. Call +1 555 0100.","field":"password"}"#,
        )
    };
    for forged in [
        app.url(&format!("/login?__path=%2Ffn%2Flogin&__err={forged_err}")),
        app.url(&format!(
            "/login?next=%2Fsettings&__path=%2Ffn%2Flogin&__%65rr={forged_err}"
        )),
        back.replace("__err=", &format!("__err={forged_err}&x=")),
    ] {
        let r = browser.get(&forged).send().await.unwrap();
        // The browser is sent to the clean address, so not even the hydrated page sees it.
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{forged}");
        let clean = r.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(!clean.contains("err"), "{clean}");
        let (status, html) = page(&browser, &app.url(&clean)).await;
        assert_eq!(status, 200);
        assert!(
            !html.contains("Your account is locked"),
            "an unsigned error is dropped"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn every_page_carries_the_nonce_its_scripts_use() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    let requests = (0..40).map(|i| {
        let path = ["/", "/login", "/signup", "/u/nobody", "/no/such/page"][i % 5];
        let (client, url) = (app.new_client(), app.url(path));
        tokio::spawn(async move {
            let r = client.get(url).send().await.unwrap();
            let csp = r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned();
            (path, csp, r.text().await.unwrap())
        })
    });
    for request in requests.collect::<Vec<_>>() {
        let (path, csp, html) = request.await.unwrap();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in {csp}"));
        assert!(html.contains(&format!(r#"nonce="{nonce}""#)), "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn signed_out_readers_are_sent_to_sign_in_with_a_real_redirect() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    let client = app.new_client();
    for path in ["/settings", "/new", "/saved"] {
        let r = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            r.headers()["location"].to_str().unwrap(),
            format!("/login?next={path}")
        );
    }
    app.stop().await;
}
