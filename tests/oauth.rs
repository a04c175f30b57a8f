//! OAuth against a real authorization server: the Python `mcp` SDK's, with access tokens that
//! live four seconds and refresh tokens that rotate on every use
//! (`tests/fixtures/oauth_server.py`), and a real Secret Service for the tokens. `$BROWSER` is
//! `tests/conformance/browser.mjs`, which approves by following the redirects.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use serde_json::json;

const TTL: u64 = 4;

struct World {
    server: HttpServer,
    _keyring: Keyring,
    env: Vec<(String, String)>,
    _dir: tempfile::TempDir,
    config: PathBuf,
    outputs: std::sync::Mutex<Vec<String>>,
}

impl World {
    /// The Python authorization server as `py`, with `server_lines` in its config.
    fn new(server_lines: &str) -> World {
        let server = HttpServer::python_oauth(&[("ACCESS_TTL", &TTL.to_string())]);
        World::with(server, "py", server_lines)
    }

    /// The fault fixture in `mode` as `name`.
    fn fault(mode: &str, name: &str, server_lines: &str) -> World {
        let server =
            HttpServer::start_script("tests/fixtures/oauth-fault-server.mjs", &[("MODE", mode)]);
        World::with(server, name, server_lines)
    }

    /// `server` as `name`, a private keyring, and the headless browser.
    fn with(server: HttpServer, name: &str, server_lines: &str) -> World {
        let keyring = Keyring::start();
        let mut env = keyring.env();
        env.push((
            "BROWSER".into(),
            root()
                .join("tests/conformance/browser.mjs")
                .display()
                .to_string(),
        ));
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[audit]\nfile = {:?}\n[servers.{name}]\nurl = {:?}\n{server_lines}\n",
                dir.path().join("audit.jsonl"),
                server.url("/mcp")
            ),
        )
        .unwrap();
        World {
            server,
            _keyring: keyring,
            env,
            _dir: dir,
            config,
            outputs: Default::default(),
        }
    }

    /// Runs mcpgw to completion; returns (success, stdout, stderr).
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = Cli::new(args)
            .config(&self.config)
            .envs(&self.env)
            .trace()
            .run();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        self.outputs
            .lock()
            .unwrap()
            .push(format!("{stdout}{stderr}"));
        (out.status.success(), stdout, stderr)
    }

    fn stat(&self, name: &str) -> u64 {
        self.server.stats()[name].as_u64().unwrap()
    }

    /// The credential events of the audit log, in order.
    fn audited(&self) -> Vec<String> {
        let text =
            std::fs::read_to_string(self._dir.path().join("audit.jsonl")).unwrap_or_default();
        self.outputs.lock().unwrap().push(text.clone());
        text.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|l| l["event"] == "credential")
            .map(|l| {
                format!(
                    "{}:{}",
                    l["server"].as_str().unwrap(),
                    l["change"].as_str().unwrap()
                )
            })
            .collect()
    }

    /// No token the server ever issued appears in anything mcpgw printed (at trace level).
    fn assert_no_token_leaked(&self) {
        let stats = self.server.stats();
        let issued: Vec<String> = serde_json::from_value(stats["issued"].clone()).unwrap();
        assert!(!issued.is_empty());
        for output in self.outputs.lock().unwrap().iter() {
            for token in &issued {
                assert!(
                    !output.contains(token.as_str()),
                    "a token reached the output:\n{output}"
                );
            }
        }
    }
}

fn wait_for_expiry() {
    std::thread::sleep(Duration::from_secs(TTL + 1));
}

#[test]
fn login_call_refresh_five_processes_one_refresh_then_logout_revokes() {
    let w = World::new("auth = \"oauth\"");
    // Before any login: list says so, and a call names the command to run.
    let (_, list, _) = w.run(&["list", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(
        list[0]["oauth"], "needs login: run `mcpgw login py`",
        "{list}"
    );
    assert_eq!(list[0]["cause"], "needs_login", "{list}");
    let (ok, stdout, stderr) = w.run(&["call", "py__whoami"]);
    assert!(
        !ok && format!("{stdout}{stderr}").contains("run `mcpgw login py`"),
        "{stdout}{stderr}"
    );

    let (ok, _, stderr) = w.run(&["login", "py"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("logged in to `py`") && stderr.contains("refreshes by itself"),
        "{stderr}"
    );
    assert_eq!((w.stat("registered"), w.stat("authorization_code")), (1, 1));

    let (_, list, _) = w.run(&["list", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert!(
        list[0]["oauth"]
            .as_str()
            .unwrap()
            .starts_with("logged in, expires in"),
        "{list}"
    );
    assert_eq!(list[0]["state"], "ready", "{list}");

    let (ok, stdout, stderr) = w.run(&["call", "py__whoami"]);
    assert!(ok && stdout.contains("authorized"), "{stdout}{stderr}");
    assert_eq!(w.stat("refresh_token"), 0);

    // Expired: the next process refreshes first (and stores the rotated refresh token).
    wait_for_expiry();
    let (ok, stdout, stderr) = w.run(&["call", "py__whoami"]);
    assert!(ok && stdout.contains("authorized"), "{stdout}{stderr}");
    assert_eq!(w.stat("refresh_token"), 1);

    // Expired again, and five processes start at once: one refresh, and every call works.
    wait_for_expiry();
    let handles: Vec<_> = (0..5)
        .map(|_| {
            let (config, env) = (w.config.clone(), w.env.clone());
            std::thread::spawn(move || {
                Cli::new(&["call", "py__whoami"])
                    .config(&config)
                    .envs(&env)
                    .trace()
                    .run()
            })
        })
        .collect();
    for h in handles {
        let out = h.join().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        w.outputs.lock().unwrap().push(format!("{stdout}{stderr}"));
        assert!(
            out.status.success() && stdout.contains("authorized"),
            "{stdout}{stderr}"
        );
    }
    assert_eq!(
        w.stat("refresh_token"),
        2,
        "five processes, one refresh grant"
    );
    assert_eq!(
        w.stat("refused_refresh"),
        0,
        "no process used a spent refresh token"
    );
    assert_eq!(w.stat("authorization_code"), 1, "no second login");

    // Logout revokes both tokens at the server and forgets them here.
    let (ok, _, stderr) = w.run(&["logout", "py"]);
    assert!(ok && stderr.contains("revoked and forgot"), "{stderr}");
    assert_eq!(w.stat("revoked"), 2);
    let (ok, stdout, stderr) = w.run(&["call", "py__whoami"]);
    assert!(
        !ok && format!("{stdout}{stderr}").contains("run `mcpgw login py`"),
        "{stdout}{stderr}"
    );
    let (ok, _, stderr) = w.run(&["logout", "py"]);
    assert!(ok && stderr.contains("not logged in"), "{stderr}");
    // The audit log has each credential event once, and no token (checked below).
    assert_eq!(
        w.audited(),
        ["py:login", "py:refresh", "py:refresh", "py:revoked"]
    );
    w.assert_no_token_leaked();
}

#[tokio::test]
async fn serve_says_which_command_to_run_and_picks_up_a_login_made_elsewhere() {
    // No `auth = "oauth"`: the server's 401 with a Bearer challenge is enough.
    let w = World::new("");
    // No browser can be opened here (no $BROWSER, no display).
    let env: Vec<_> = w
        .env
        .iter()
        .filter(|(k, _)| k != "BROWSER")
        .cloned()
        .collect();
    let gw = Setup::new()
        .server(Server::url("py", &w.server.url("/mcp")))
        .envs(env)
        .env("DISPLAY", "")
        .env("WAYLAND_DISPLAY", "")
        .start()
        .await;
    let tools = gw.tool_names().await;
    assert!(!tools.iter().any(|t| t.starts_with("py__")), "{tools:?}");
    gw.wait_log("run `mcpgw login py`").await;

    // The login happens in another terminal; the gateway notices without a restart.
    // (The world's config names the same server, so the login lands where the gateway looks.)
    let (ok, _, stderr) = w.run(&["login", "py"]);
    assert!(ok, "{stderr}");
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    while !gw.tool_names().await.iter().any(|t| t == "py__whoami") {
        assert!(
            std::time::Instant::now() < deadline,
            "the login was not picked up:\n{}",
            gw.log_text()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let result = gw.call("py__whoami", json!({})).await;
    assert_eq!(text(&result), "authorized");
    w.outputs.lock().unwrap().push(gw.log_text());
    w.assert_no_token_leaked();
}

#[tokio::test]
async fn serve_opens_the_browser_once_by_itself_when_it_can() {
    let w = World::new("");
    let gw = Setup::new()
        .server(Server::url("py", &w.server.url("/mcp")))
        .envs(w.env.clone())
        .start()
        .await;
    // The first tools/list waits for the server, which logs in through $BROWSER meanwhile.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !gw.tool_names().await.iter().any(|t| t == "py__whoami") {
        assert!(
            std::time::Instant::now() < deadline,
            "no login:\n{}",
            gw.log_text()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(text(&gw.call("py__whoami", json!({})).await), "authorized");
    // Past expiry the gateway refreshes by itself; still one login.
    wait_for_expiry();
    assert_eq!(text(&gw.call("py__whoami", json!({})).await), "authorized");
    assert_eq!(
        (w.stat("authorization_code"), w.stat("refresh_token")),
        (1, 1)
    );
    w.outputs.lock().unwrap().push(gw.log_text());
    w.assert_no_token_leaked();
}

/// One login against an authorization server that goes wrong in one way: the login fails
/// with `expected` in its message, within its timeout, and no token is stored.
fn failed_login(mode: &str, expected: &str) {
    let w = World::fault(mode, "bad", "auth = \"oauth\"");
    let started = std::time::Instant::now();
    let out = Cli::new(&["login", "bad", "--timeout", "3s"])
        .config(&w.config)
        .envs(&w.env)
        .trace()
        .run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{mode}: {stderr}");
    assert!(
        stderr.contains("login to `bad` failed") && stderr.contains(expected),
        "{mode}: {stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{mode} took {:?}",
        started.elapsed()
    );
    let (_, list, _) = w.run(&["list", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(
        list[0]["oauth"], "needs login: run `mcpgw login bad`",
        "{mode}: {list}"
    );
}

#[test]
fn a_login_that_goes_wrong_stores_nothing_and_says_why() {
    // The fixture itself works: the same flow with no fault logs in.
    let good = World::fault("good", "good", "");
    let (ok, _, stderr) = good.run(&["login", "good"]);
    assert!(ok, "{stderr}");

    failed_login("bad-metadata", "cannot find how `bad` authorizes");
    failed_login("wrong-state", "`state` that is not this login's");
    failed_login("iss-mismatch", "issuer mismatch");
    failed_login("token-500", "could not be exchanged for tokens");
    failed_login(
        "no-callback",
        "no answer came back from the browser within 3s",
    );
}

#[test]
fn a_headless_login_takes_the_redirect_pasted() {
    use std::io::{BufRead, Write};
    let w = World::new("auth = \"oauth\"");
    let mut child = std::process::Command::new(mcpgw_bin())
        .args([
            "--config",
            w.config.to_str().unwrap(),
            "login",
            "py",
            "--no-browser",
        ])
        .envs(w.env.iter().map(|(k, v)| (k, v)))
        .env_remove("BROWSER")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no URL printed:\n{seen}"
        );
        seen.push_str(&line);
        if let Some(url) = line.trim().strip_prefix("http") {
            break format!("http{url}");
        }
    };
    // The person opens the URL elsewhere, approves, and copies the address it lands on.
    let landed = std::process::Command::new(node())
        .args(["-e", "fetch(process.argv[1], { redirect: 'manual' }).then(r => process.stdout.write(r.headers.get('location')))", &url])
        .output()
        .unwrap();
    let landed = String::from_utf8(landed.stdout).unwrap();
    assert!(landed.starts_with("http://127.0.0.1:"), "{landed}");
    writeln!(child.stdin.as_mut().unwrap(), "{landed}").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{seen}{rest}");
    assert!(rest.contains("logged in to `py`"), "{seen}{rest}");
    let (ok, stdout, stderr) = w.run(&["call", "py__whoami"]);
    assert!(ok && stdout.contains("authorized"), "{stdout}{stderr}");
}

#[test]
fn a_device_login_shows_a_code_and_polls_until_approved() {
    let w = World::fault("device", "dev", "");
    let (ok, _, stderr) = w.run(&["login", "dev", "--device", "--timeout", "20s"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("/activate") && stderr.contains("WDJB-MJHT"),
        "{stderr}"
    );
    assert!(stderr.contains("logged in to `dev`"), "{stderr}");
    let (_, list, _) = w.run(&["list", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert!(
        list[0]["oauth"].as_str().unwrap().starts_with("logged in"),
        "{list}"
    );
    // A server without the device grant says so and what to use instead.
    let plain = World::fault("good", "dev", "");
    let (ok, _, stderr) = plain.run(&["login", "dev", "--device"]);
    assert!(
        !ok && stderr.contains("offers no device authorization; log in with --no-browser"),
        "{stderr}"
    );
}
