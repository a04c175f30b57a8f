//! The HTTP face over TLS (`[listen.tls]`): HTTPS for any client that trusts its certificate,
//! and client certificates signed by `client_ca` as a way in, their subject the identity sent
//! to servers that ask for it. mcp-remote (Node's TLS) is the real client.

mod common;

use common::face::Face;
use common::pki::Pki;
use common::*;
use serde_json::{Value, json};

fn config(pki: &Pki, upstream: &HttpServer, audit: &std::path::Path, require: bool) -> String {
    format!(
        "{}\n[listen.tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\nrequire_client_cert = {require}\n[audit]\nfile = {:?}\n",
        Setup::new()
            .server(
                Server::url("asks", &upstream.url("/mcp"))
                    .with(r#"forward_identity = ["email", "name"]"#)
            )
            .config_text(),
        pki.path("server.pem"),
        pki.path("server.key"),
        pki.path("ca.pem"),
        audit,
    )
}

fn seen_headers(answer: &Value) -> Value {
    let text = answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn a_client_certificate_is_a_way_in_and_names_its_holder() {
    let (pki, rogue) = (Pki::new(), Pki::new());
    pki.client("ana", Some("ana@example.com"));
    rogue.client("mallory", None);
    let upstream = HttpServer::faulty();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let keys = dir.path().join("keys.json");
    let text = config(&pki, &upstream, &audit, false);
    std::fs::write(dir.path().join("c.toml"), &text).unwrap();
    let made = Cli::new(&["keys", "create", "bot"])
        .env("MCPGW_KEYS_FILE", keys.to_str().unwrap())
        .env("MCPGW_CONFIG", dir.path().join("c.toml").to_str().unwrap())
        .run();
    let key = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    let face = Face::launch_with(&text, Some(&keys), &[], Some(pki.reqwest(None))).await;

    // No certificate and no key: 401; a key still works.
    assert_eq!(face.get("/servers", None).await.0, 401);
    assert_eq!(face.get("/servers", Some(&key)).await.0, 200);
    // With ana's certificate: in, and the servers that ask are told who she is.
    face.use_client(pki.reqwest(Some("ana")));
    assert_eq!(face.get("/servers", None).await.0, 200);
    let (session, _) = face.open_session(&[]).await;
    let seen = seen_headers(
        &session
            .request(
                "tools/call",
                json!({ "name": "asks__headers", "arguments": {} }),
            )
            .await,
    );
    assert_eq!(seen["x-user-name"], "ana", "{seen}");
    assert_eq!(seen["x-user-email"], "ana@example.com", "{seen}");
    // Another CA's certificate does not get through the handshake; nor does plain HTTP.
    face.use_client({
        let ca = std::fs::read(pki.path("ca.pem")).unwrap();
        let mut pem = std::fs::read(rogue.path("mallory.pem")).unwrap();
        pem.extend(std::fs::read(rogue.path("mallory.key")).unwrap());
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
            .identity(reqwest::Identity::from_pem(&pem).unwrap())
            .build()
            .unwrap()
    });
    assert!(
        face.try_get("/servers").await.is_err(),
        "another CA's certificate"
    );
    face.use_client(pki.reqwest(None));
    let plain = reqwest::get(format!("http://127.0.0.1:{}/health", face.port)).await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    // mcp-remote, over TLS, with the key.
    let (client, mut child) = face
        .mcp_remote(
            "remote",
            &[&format!("X-API-Key: {key}")],
            &[("NODE_EXTRA_CA_CERTS", &pki.path("ca.pem"))],
            mcpgw::client::no_handler(),
        )
        .await;
    let tools = client.request("tools/list", json!({})).await.unwrap();
    assert!(
        tools["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "asks__headers")
    );
    let _ = child.kill().await;

    let text = std::fs::read_to_string(&audit).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains(r#""key":"cert:ana""#) && l.contains(r#""outcome":"allowed""#)),
        "{text}"
    );
}

#[tokio::test]
async fn a_required_client_certificate_is_asked_for_in_the_handshake() {
    let pki = Pki::new();
    pki.client("ana", None);
    let upstream = HttpServer::faulty();
    let dir = tempfile::tempdir().unwrap();
    let text = config(&pki, &upstream, &dir.path().join("audit.jsonl"), true);
    let ana = pki.reqwest(Some("ana"));
    let face = Face::launch_with(&text, None, &[], Some(ana)).await;
    assert_eq!(face.get("/servers", None).await.0, 200);
    face.use_client(pki.reqwest(None));
    assert!(
        face.try_get("/health").await.is_err(),
        "no certificate: no handshake"
    );
    // A config that asks for client certificates without naming their CA is refused.
    let bad = text.replace(&format!("client_ca = {:?}\n", pki.path("ca.pem")), "");
    std::fs::write(dir.path().join("bad.toml"), bad).unwrap();
    let out = Cli::new(&[
        "list",
        "--config",
        dir.path().join("bad.toml").to_str().unwrap(),
    ])
    .run();
    assert!(
        all_output(&out).contains("needs `client_ca`"),
        "{}",
        all_output(&out)
    );
}
