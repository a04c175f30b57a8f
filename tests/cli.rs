//! The commands a person types: list, tools, call, completions, and how they fail.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value;

fn config(setup: Setup) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, setup.config_text()).unwrap();
    (dir, path)
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn list_shows_every_server_and_its_state() {
    let (_dir, path) = config(
        Setup::new()
            .server(Server::everything("everything"))
            .server(Server::command("broken", "/nonexistent/server", &[]))
            .server(Server::fixture("off", &[]).with("enabled = false")),
    );
    let out = Cli::new(&["list", "--json"]).config(&path).run();
    // Regression (new users): a failed server left `list` exiting 0. The JSON is still
    // printed, and the exit status says that an enabled server failed.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let servers: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let by_name = |n: &str| servers.iter().find(|s| s["name"] == n).unwrap().clone();
    let everything = by_name("everything");
    assert_eq!(everything["state"], "ready");
    assert_eq!(everything["transport"], "stdio");
    assert_eq!(everything["tools"], 13, "{everything}");
    assert_eq!(everything["server_info"]["name"], "mcp-servers/everything");
    let broken = by_name("broken");
    assert_eq!(broken["state"], "failed");
    assert_eq!(broken["cause"], "spawn_failed", "{broken}");
    assert!(
        broken["reason"]
            .as_str()
            .unwrap()
            .contains("cannot start `/nonexistent/server`")
    );
    assert_eq!(by_name("off")["state"], "disabled");

    let out = Cli::new(&["list"]).config(&path).run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let table = stdout(&out);
    for word in [
        "SERVER",
        "everything",
        "ready",
        "broken",
        "failed",
        "off",
        "disabled",
    ] {
        assert!(table.contains(word), "{word} missing:\n{table}");
    }
}

#[test]
fn tools_prints_the_list_a_client_sees() {
    let (_dir, path) = config(
        Setup::new()
            .server(Server::fixture("f", &[]))
            .server(Server::fixture("g", &[])),
    );
    let out = Cli::new(&["tools", "--json"]).config(&path).run();
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(listed["tools"].as_array().unwrap().len(), 22);
    let out = Cli::new(&["tools", "g"]).config(&path).run();
    let table = stdout(&out);
    assert!(
        table.contains("g__echo") && !table.contains("f__echo"),
        "{table}"
    );
    let out = Cli::new(&["tools", "gg"]).config(&path).run();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no server named `gg`") && stderr(&out).contains("did you mean `g`?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn call_prints_results_and_exits_by_outcome() {
    let (_dir, path) = config(
        Setup::new()
            .server(Server::everything("e"))
            .server(Server::fixture("f", &[])),
    );
    let out = Cli::new(&["call", "e__echo", r#"{"message":"from the command line"}"#])
        .config(&path)
        .run();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Echo: from the command line\n");
    let out = Cli::new(&["call", "e__get-tiny-image"]).config(&path).run();
    assert!(
        stdout(&out).contains("[image: image/png"),
        "{}",
        stdout(&out)
    );
    let out = Cli::new(&["call", "e__get-sum", r#"{"a":1,"b":2}"#, "--json"])
        .config(&path)
        .run();
    let raw: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(raw["content"][0]["text"].as_str().unwrap().contains('3'));
    // A tool error exits 1; a bad call exits 2.
    let out = Cli::new(&["call", "f__crash"]).config(&path).run();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("server `f` stopped before answering"));
    let out = Cli::new(&["call", "e__echo", "{not json"])
        .config(&path)
        .run();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not valid JSON"));
    let out = Cli::new(&["call", "e__echo", "[1]"]).config(&path).run();
    assert_eq!(out.status.code(), Some(2));
    let out = Cli::new(&["call", "nope"]).config(&path).run();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("Unknown tool: nope"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn config_errors_name_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[servers.x]\ncommand = \"a\"\nargz = []\n").unwrap();
    let out = Cli::new(&["list"]).config(&path).run();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:3:1", path.display())), "{err}");
    assert!(
        err.contains("unknown key `argz`; did you mean `args`?"),
        "{err}"
    );
    std::fs::write(
        &path,
        "[servers.x]\ncommand = \"${MCPGW_TEST_SURELY_UNSET}\"\n",
    )
    .unwrap();
    let err = stderr(&Cli::new(&["serve"]).config(&path).stdin("").run());
    assert!(
        err.contains("`MCPGW_TEST_SURELY_UNSET` is not set") && err.contains("servers.x.command"),
        "{err}"
    );
    let missing = dir.path().join("missing.toml");
    let out = Cli::new(&["list"]).config(&missing).run();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot read config"),
        "{}",
        stderr(&out)
    );
    // Regression: the cause ("No such file or directory") was printed twice.
    assert_eq!(
        stderr(&out).matches("No such file").count(),
        1,
        "{}",
        stderr(&out)
    );
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(Cli::new(&["frobnicate"]).run().status.code(), Some(2));
    assert_eq!(
        Cli::new(&["completions", "tcsh"]).run().status.code(),
        Some(2)
    );
    let help = Cli::new(&["--help"]).run();
    assert!(help.status.success());
    for command in ["serve", "list", "tools", "call", "completions"] {
        assert!(
            stdout(&help).contains(command),
            "{command} missing from --help"
        );
    }
}

#[test]
fn completions_print_the_shipped_scripts() {
    for (shell, file) in [
        ("bash", "mcpgw.bash"),
        ("zsh", "_mcpgw"),
        ("fish", "mcpgw.fish"),
        ("powershell", "_mcpgw.ps1"),
        ("elvish", "mcpgw.elv"),
    ] {
        let out = Cli::new(&["completions", shell]).run();
        assert!(out.status.success());
        let shipped = std::fs::read_to_string(root().join("completions").join(file)).unwrap();
        assert!(
            !shipped.is_empty() && stdout(&out) == shipped,
            "completions/{file} differs from `mcpgw completions {shell}`"
        );
    }
}

#[test]
fn serve_with_no_config_file_still_speaks_mcp() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_str().unwrap();
    let out = Cli::new(&["serve"])
        .env("XDG_CONFIG_HOME", home)
        .env("HOME", home)
        .stdin(concat!(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
            "\n"
        ))
        .run();
    assert!(out.status.success());
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", stdout(&out));
    assert_eq!(lines[1]["result"]["tools"], serde_json::json!([]));
    assert!(stderr(&out).contains("no config at"), "{}", stderr(&out));
}

#[tokio::test]
async fn sigterm_stops_children_and_exits_zero() {
    let gw = Setup::new().server(Server::everything("a")).start().await;
    gw.tools().await;
    let children = gw.pids("a");
    assert_eq!(children.len(), 1);
    let mut gw = gw;
    unsafe { libc::kill(gw.child.id().unwrap() as i32, libc::SIGTERM) };
    let status = tokio::time::timeout(WAIT, gw.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(
        !std::path::Path::new(&format!("/proc/{}", children[0])).exists(),
        "the child outlived mcpgw"
    );
}

#[test]
fn every_example_config_loads() {
    let mut seen = 0;
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            mcpgw::config::Config::parse_with_env(&path, &text, |_| Some("/home/example".into()))
                .unwrap_or_else(|e| panic!("{e}"));
            seen += 1;
        }
    }
    assert!(seen >= 1);
}

#[test]
fn a_readable_config_with_plaintext_credentials_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    let warned = |text: &str, mode: u32| {
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let out = Cli::new(&["tools", "--json"]).config(&path).run();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !err.contains("ghp_literal123"),
            "the value itself is never shown: {err}"
        );
        err.contains("readable by other users")
    };
    let literal =
        "[servers.gh]\ncommand = \"/nonexistent/x\"\nenv = { GITHUB_TOKEN = \"ghp_literal123\" }\n";
    assert!(warned(literal, 0o644));
    assert!(!warned(literal, 0o600));
    // A reference to the environment is not a credential in the file (the config loads: the
    // fallback makes sure of that, so no warning means none was due).
    let reference = "[servers.gh]\ncommand = \"/nonexistent/x\"\nenv = { GITHUB_TOKEN = \"${GH_TOKEN_UNSET:-none}\", LOG = \"debug\" }\n";
    assert!(!warned(reference, 0o644));
    assert!(
        Cli::new(&["tools", "--json"])
            .config(&path)
            .run()
            .status
            .success()
    );
}

#[test]
fn tools_for_one_server_include_its_shortened_names() {
    // At 16 characters, "a-rather-long-server__…" names are cut and hashed: they need not
    // start with the server's name, and must still be listed under it.
    let (_dir, path) = config(
        Setup::new()
            .gateway("max_name_length = 16")
            .server(Server::fixture("a-rather-long-server", &[]))
            .server(Server::fixture("b", &[])),
    );
    let of = |server: &str| -> Vec<String> {
        let out = Cli::new(&["tools", server, "--json"]).config(&path).run();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (long, b) = (of("a-rather-long-server"), of("b"));
    assert_eq!(long.len(), 11, "{long:?}");
    assert_eq!(b.len(), 11, "{b:?}");
    assert!(long.iter().all(|n| !b.contains(n)));
}
