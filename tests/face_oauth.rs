//! The HTTP face as an OAuth protected resource (`[listen.oauth]`), with a real OpenID
//! provider (`tests/npm/oidc-provider.mjs`, the npm package oidc-provider) issuing JWT access
//! tokens: its Protected Resource Metadata, the 401 that points to it, and valid, expired,
//! wrong-audience, wrong-issuer, missing-scope and unsigned tokens; the token's claims as
//! the identity servers are told and the servers it reaches.

mod common;

use std::time::Duration;

use base64::Engine;
use common::face::Face;
use common::*;
use serde_json::{Value, json};

/// A token from the provider at `issuer` for `resource` with `scope`.
async fn token(issuer: &str, resource: &str, scope: &str) -> String {
    let got: Value = reqwest::Client::new()
        .post(format!("{issuer}/token"))
        .basic_auth("tester", Some("tester-secret"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            ("resource", resource),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    got["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {got}"))
        .to_owned()
}

#[tokio::test]
async fn access_tokens_of_the_issuer_for_this_face_are_a_way_in() {
    // Tokens live 3 s here, so that one can be seen to expire.
    let provider = HttpServer::start_script(
        "tests/npm/oidc-provider.mjs",
        &[("TTL", "3"), ("MCP_SERVERS", "every,asks")],
    );
    let stranger = HttpServer::start_script("tests/npm/oidc-provider.mjs", &[]);
    let issuer = provider.url("");
    let upstream = HttpServer::faulty();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let config = format!(
        "{}\n[listen.oauth]\nissuer = {issuer:?}\nscopes = [\"mcp\"]\n[listen.oauth.claims]\nteam = \"groups\"\nservers = \"mcp_servers\"\n[audit]\nfile = {:?}\n",
        Setup::new()
            .server(Server::everything("every"))
            .server(Server::everything("other"))
            .server(
                Server::url("asks", &upstream.url("/mcp"))
                    .with(r#"forward_identity = ["email", "team"]"#)
            )
            .config_text(),
        audit
    );
    let face = Face::launch(&config, None, &[]).await;
    let resource = face.url();

    // Where to log in: the metadata, and the 401 that names it.
    let (status, metadata) = face
        .get("/.well-known/oauth-protected-resource/mcp", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(metadata["resource"], resource.as_str());
    assert_eq!(metadata["authorization_servers"], json!([issuer]));
    assert_eq!(metadata["scopes_supported"], json!(["mcp"]));
    let (status, got, _) = face
        .post(&[], r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .await;
    assert_eq!(status, 401);
    let challenge = got["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"http://127.0.0.1:{}/.well-known/oauth-protected-resource/mcp\"",
            face.port
        )),
        "{challenge}"
    );

    // A valid token: in, as `oauth:tester`, seeing the servers its claim names.
    let good = token(&issuer, &resource, "mcp").await;
    let bearer = format!("Bearer {good}");
    let (session, init) = face.open_session(&[("authorization", &bearer)]).await;
    let instructions = init["instructions"].as_str().unwrap();
    assert!(!instructions.contains("`other`"), "{instructions}");
    let seen = session
        .request(
            "tools/call",
            json!({ "name": "asks__headers", "arguments": {} }),
        )
        .await;
    let seen: Value =
        serde_json::from_str(seen["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(seen["x-user-email"], "robot@example.com", "{seen}");
    assert_eq!(seen["x-user-team"], "core,ops", "{seen}");
    let other = session
        .request(
            "tools/call",
            json!({ "name": "other__echo", "arguments": { "message": "x" } }),
        )
        .await;
    assert!(
        other["error"]["message"]
            .as_str()
            .unwrap()
            .contains("may use only"),
        "{other}"
    );

    // Refused, each with its reason in the challenge.
    let refused = |token: String| {
        let face = &face;
        async move {
            let bearer = format!("Bearer {token}");
            let (status, got, body) = face
                .post(
                    &[("authorization", &bearer)],
                    r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
                )
                .await;
            let challenge = got
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (status, challenge, body)
        }
    };
    let wrong_audience = token(&issuer, "http://127.0.0.1:1/mcp", "mcp").await;
    let (status, challenge, body) = refused(wrong_audience).await;
    assert_eq!(status, 401, "{body}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let foreign = token(&stranger.url(""), &resource, "mcp").await;
    assert_eq!(refused(foreign).await.0, 401, "another issuer's token");
    let narrow = token(&issuer, &resource, "other").await;
    let (status, challenge, body) = refused(narrow).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"mcp\""), "{challenge}");
    // Unsigned: the same claims, `alg: none`.
    let claims = good.split('.').nth(1).unwrap().to_owned();
    let none =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#);
    assert_eq!(
        refused(format!("{none}.{claims}.")).await.0,
        401,
        "an unsigned token"
    );
    // A signature that is not the issuer's.
    let forged = format!("{}.{}", &good[..good.rfind('.').unwrap()], "AAAA");
    assert_eq!(refused(forged).await.0, 401, "a forged signature");
    // Expired (3 s, and the 5 s of leeway).
    tokio::time::sleep(Duration::from_secs(9)).await;
    let (status, challenge, _) = refused(good).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("invalid_token"), "{challenge}");

    let text = std::fs::read_to_string(&audit).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains(r#""key":"oauth:tester""#) && l.contains(r#""outcome":"allowed""#)),
        "{text}"
    );
    assert!(text.contains(r#""outcome":"insufficient_scope""#), "{text}");
    assert!(!text.contains(&claims[..20]), "no token in the audit log");
}

/// `mcpgw proxy` is an MCP client that speaks the authorization spec: pointed at the face, it
/// finds the face's authorization server in its metadata, registers, logs in (the headless
/// `$BROWSER` follows the redirects; the provider approves at once) and calls a tool.
#[tokio::test]
async fn mcpgw_proxy_logs_in_through_the_faces_authorization_server() {
    let provider = HttpServer::start_script("tests/npm/oidc-provider.mjs", &[]);
    let issuer = provider.url("");
    let home = tempfile::tempdir().unwrap();
    let audit = home.path().join("audit.jsonl");
    let config = format!(
        "{}\n[listen.oauth]\nissuer = {issuer:?}\nscopes = [\"mcp\"]\n[audit]\nfile = {audit:?}\n",
        Setup::new()
            .server(Server::everything("every"))
            .config_text(),
    );
    let face = Face::launch(&config, None, &[]).await;
    let mut command = tokio::process::Command::new(mcpgw_bin());
    command
        .args(["proxy", &face.url()])
        .env("BROWSER", root().join("tests/conformance/browser.mjs"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_RUNTIME_DIR", home.path().join("run"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("MCPGW_SECRET_KEY", "c4n4ry-face-oauth-passphrase")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("MCPGW_LOG", "debug")
        .stderr(std::fs::File::create(home.path().join("proxy.log")).unwrap());
    let (client, mut child) =
        mcpgw::client::Client::spawn(&mut command, mcpgw::client::no_handler()).unwrap();
    let log = || std::fs::read_to_string(home.path().join("proxy.log")).unwrap_or_default();
    client.initialize(json!({})).await.unwrap_or_else(|e| {
        panic!(
            "{e}\n--- proxy ---\n{}\n--- face ---\n{}",
            log(),
            face.log()
        )
    });
    let echoed = client
        .request(
            "tools/call",
            json!({ "name": "every__echo", "arguments": { "message": "through" } }),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}\n--- proxy ---\n{}", log()));
    assert_eq!(echoed["content"][0]["text"], "Echo: through");
    let audited = std::fs::read_to_string(&audit).unwrap();
    assert!(
        audited
            .lines()
            .any(|l| l.contains(r#""key":"oauth:ana""#) && l.contains(r#""outcome":"allowed""#)),
        "the face let ana in:\n{audited}"
    );
    let _ = child.kill().await;
}
