//! API keys in the OS keyring (a real gnome-keyring, private to each test) or an encrypted
//! file, put where `{secret}` stands: a child's environment, an HTTP header. No secret ever
//! reaches a log line (at trace level), `list --json` or an error message.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::json;

const KEY: &str = "sk-live-7f3a9c1e5d";

fn write_config(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn everything_with_key_in_env() -> String {
    format!(
        "[servers.e]\ncommand = {:?}\nargs = [{:?}, \"stdio\"]\nenv = {{ MY_API_KEY = \"{{secret}}\" }}\n[servers.plain]\ncommand = {:?}\nargs = [{:?}, \"stdio\"]\n",
        node(),
        everything_js(),
        node(),
        everything_js()
    )
}

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    assert!(
        !text.contains(KEY),
        "the secret leaked into {what}:\n{text}"
    );
}

#[tokio::test]
async fn a_key_added_in_one_process_reaches_the_child_of_another_and_can_be_removed() {
    let keyring = Keyring::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&dir, &everything_with_key_in_env());
    let out = Cli::new(&["add-key", "e", "--stdin"])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .stdin(&format!("{KEY}\n"))
        .run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("OS keyring (Secret Service)"));
    assert_no_secret("add-key's output", &format!("{out:?}"));

    let gw = Setup::new()
        .server(
            Server::command("e", &node(), &[&everything_js(), "stdio"])
                .with(r#"env = { MY_API_KEY = "{secret}" }"#),
        )
        .envs(keyring.env())
        .env("MCPGW_LOG", "trace")
        .start()
        .await;
    let env = gw.call("e__get-env", json!({})).await;
    assert!(
        text(&env).contains(&format!("\"MY_API_KEY\": \"{KEY}\"")),
        "the child got its key"
    );
    gw.wait_log("[secret]").await;
    assert_no_secret("the trace log", &gw.log_text());
    drop(gw);

    let list = Cli::new(&["list", "--json"])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .run();
    assert!(list.status.success());
    let servers: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(servers[0]["name"], "e");
    assert_eq!(servers[0]["state"], "ready", "{servers}");
    assert_eq!(servers[0]["key"], "set", "{servers}");
    assert!(
        servers[1]["key"].is_null(),
        "`plain` needs no key: {servers}"
    );
    assert_no_secret("list --json and its log", &format!("{list:?}"));

    let out = Cli::new(&["remove-key", "e"])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .run();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Removed the API key for `e`"));
    let list = Cli::new(&["list"])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .run();
    assert!(
        String::from_utf8_lossy(&list.stdout).contains("missing"),
        "{}",
        String::from_utf8_lossy(&list.stdout)
    );
    let call = Cli::new(&["call", "e__echo", r#"{"message":"x"}"#])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .run();
    assert_eq!(call.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&call.stdout)
            .contains("server `e` is not available (it needs an API key: run `mcpgw add-key e`)"),
        "{call:?}"
    );
    // The server without a secret is unaffected.
    let plain = Cli::new(&["call", "plain__echo", r#"{"message":"fine"}"#])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .run();
    assert_eq!(String::from_utf8_lossy(&plain.stdout), "Echo: fine\n");
}

#[test]
fn add_key_refuses_empty_keys_unknown_servers_and_missing_terminals() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&dir, &everything_with_key_in_env());
    let env = vec![(
        "MCPGW_SECRET_KEY".to_owned(),
        "a long test passphrase".to_owned(),
    )];
    let out = Cli::new(&["add-key", "e", "--stdin"])
        .config(&config)
        .envs(&env)
        .trace()
        .stdin("\n")
        .run();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the key is empty"));
    let out = Cli::new(&["add-key", "ee", "--stdin"])
        .config(&config)
        .envs(&env)
        .trace()
        .stdin("k")
        .run();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("did you mean `e`?"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Cli::new(&["add-key", "e"])
        .config(&config)
        .envs(&env)
        .trace()
        .stdin("k")
        .run();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--stdin"));
}

#[tokio::test]
async fn the_encrypted_file_store_works_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.enc");
    let text = format!(
        "[secrets]\nstore = \"file\"\nfile = {:?}\n{}",
        file.display().to_string(),
        everything_with_key_in_env()
    );
    let config = write_config(&dir, &text);
    let env = vec![(
        "MCPGW_SECRET_KEY".to_owned(),
        "a long test passphrase".to_owned(),
    )];
    let out = Cli::new(&["add-key", "e", "--stdin"])
        .config(&config)
        .envs(&env)
        .trace()
        .stdin(KEY)
        .run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("encrypted file"));
    assert_no_secret(
        "the encrypted file",
        &String::from_utf8_lossy(&std::fs::read(&file).unwrap()),
    );
    let call = Cli::new(&["call", "e__get-env"])
        .config(&config)
        .envs(&env)
        .trace()
        .run();
    assert!(
        String::from_utf8_lossy(&call.stdout).contains(KEY),
        "the child got its key"
    );
    assert_no_secret("the trace log", &String::from_utf8_lossy(&call.stderr));
    // The wrong passphrase is an error that says so, and the server says what to do.
    let wrong = vec![(
        "MCPGW_SECRET_KEY".to_owned(),
        "not the passphrase".to_owned(),
    )];
    let call = Cli::new(&["call", "e__echo", r#"{"message":"x"}"#])
        .config(&config)
        .envs(&wrong)
        .trace()
        .run();
    assert!(
        String::from_utf8_lossy(&call.stderr).contains("does not open"),
        "{}",
        String::from_utf8_lossy(&call.stderr)
    );
}

#[tokio::test]
async fn an_api_key_protected_server_gets_the_key_as_a_header() {
    let keyring = Keyring::start();
    let server = HttpServer::faulty_with(&[("REQUIRE_KEY", KEY)]);
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[servers.bearer]\nurl = {:?}\nheaders = {{ Authorization = \"Bearer {{secret}}\" }}\n[servers.xkey]\nurl = {:?}\nheaders = {{ X-API-Key = \"{{secret}}\" }}\n",
        server.url("/mcp"),
        server.url("/mcp")
    );
    let config = write_config(&dir, &text);
    for name in ["bearer", "xkey"] {
        let out = Cli::new(&["add-key", name, "--stdin"])
            .config(&config)
            .envs(&keyring.env())
            .trace()
            .stdin(KEY)
            .run();
        assert!(out.status.success());
    }
    for name in ["bearer", "xkey"] {
        let call = Cli::new(&[
            "call",
            &format!("{name}__echo"),
            r#"{"message":"authorised"}"#,
        ])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .run();
        assert_eq!(
            String::from_utf8_lossy(&call.stdout),
            "echo: authorised\n",
            "{}",
            String::from_utf8_lossy(&call.stderr)
        );
        assert_no_secret("the trace log", &String::from_utf8_lossy(&call.stderr));
    }
    // A wrong key: the error says 403 and which server, never the key.
    Cli::new(&["add-key", "bearer", "--stdin"])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .stdin("sk-wrong-000")
        .run();
    let call = Cli::new(&["call", "bearer__echo", r#"{"message":"x"}"#])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .run();
    assert_eq!(call.status.code(), Some(1));
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&call.stdout),
        String::from_utf8_lossy(&call.stderr)
    );
    assert!(
        err.contains("server `bearer` is not available")
            && err.contains("403")
            && err.contains("Invalid API key"),
        "{err}"
    );
    assert!(!err.contains("sk-wrong-000"), "{err}");
    // A server that needs a key the config does not send: its 401 is the error, named.
    let open_dir = tempfile::tempdir().unwrap();
    let open = write_config(
        &open_dir,
        &format!("[servers.nokey]\nurl = {:?}\n", server.url("/mcp")),
    );
    let call = Cli::new(&["call", "nokey__echo", r#"{"message":"x"}"#])
        .config(&open)
        .envs(&keyring.env())
        .trace()
        .run();
    let shown = String::from_utf8_lossy(&call.stdout);
    assert!(
        shown.contains("server `nokey`")
            && shown.contains("401")
            && shown.contains("API key required"),
        "{call:?}"
    );
    // No key in the store: the request is never sent; the error names the command.
    Cli::new(&["remove-key", "xkey"])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .run();
    let call = Cli::new(&["call", "xkey__echo", r#"{"message":"x"}"#])
        .config(&config)
        .envs(&keyring.env())
        .trace()
        .run();
    assert!(
        String::from_utf8_lossy(&call.stdout).contains("run `mcpgw add-key xkey`"),
        "{call:?}"
    );
}

#[test]
fn keys_stored_at_the_same_moment_are_all_kept() {
    // Eight `mcpgw add-key` processes write one encrypted file at once: none may be lost.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.enc");
    let mut text = format!(
        "[secrets]\nstore = \"file\"\nfile = {:?}\n",
        file.display().to_string()
    );
    for i in 0..8 {
        text.push_str(&format!(
            "[servers.s{i}]\ncommand = \"x\"\nenv = {{ K = \"{{secret}}\" }}\n"
        ));
    }
    let config = write_config(&dir, &text);
    let env = vec![(
        "MCPGW_SECRET_KEY".to_owned(),
        "a long test passphrase".to_owned(),
    )];
    let writers: Vec<_> = (0..8)
        .map(|i| {
            let (config, env) = (config.clone(), env.clone());
            std::thread::spawn(move || {
                Cli::new(&["add-key", &format!("s{i}"), "--stdin"])
                    .config(&config)
                    .envs(&env)
                    .trace()
                    .stdin(&format!("key-{i}"))
                    .run()
            })
        })
        .collect();
    for w in writers {
        assert!(w.join().unwrap().status.success());
    }
    let store = mcpgw::secrets::FileStore::open(file, "a long test passphrase").unwrap();
    use mcpgw::secrets::SecretStore;
    for i in 0..8 {
        let key = store
            .get(&format!("s{i}"), mcpgw::secrets::Kind::ApiKey)
            .unwrap();
        assert_eq!(
            key.map(|k| k.expose().to_owned()),
            Some(format!("key-{i}")),
            "the key of s{i} was lost"
        );
    }
}
