//! Configuration: the TOML file parsed raw, then resolved once into [`Config`].
//!
//! The rest of the program sees only the resolved form: durations parsed, `${VAR}` expanded,
//! globs compiled, names checked. Every error carries the file, line and column of the value
//! at fault, and an unknown key comes with the nearest valid one.

mod error;
mod expand;
mod listen;
mod raw;

use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{Glob, GlobSet, GlobSetBuilder};

pub use error::{ConfigError, Location};
pub use expand::expand;
pub use listen::{AuditSettings, ConfigKey, FaceOAuth, FaceTls, ListenSettings};
use raw::{RawConfig, RawFilter, RawServer, Text};

/// The commented default configuration, the same text as `examples/mcpgw.toml`.
pub const EXAMPLE: &str = include_str!("../../examples/mcpgw.toml");

/// No file yet: no servers, every setting at its default.
impl Default for Config {
    fn default() -> Self {
        Config::empty()
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The file this came from; `None` when no file exists yet.
    pub path: Option<PathBuf>,
    pub gateway: GatewaySettings,
    /// Servers sorted by name.
    pub servers: Vec<ServerConfig>,
    pub secrets: SecretsSettings,
    pub listen: ListenSettings,
    pub audit: AuditSettings,
}

/// `[secrets]`: where API keys are kept.
#[derive(Debug, Clone, Default)]
pub struct SecretsSettings {
    pub store: crate::secrets::Choice,
    /// The encrypted file, when that store is used (default: the platform's data folder).
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GatewaySettings {
    /// Between a server's name and its tool's name in the exposed name.
    pub separator: String,
    /// How long a request may wait for an answer without progress.
    pub request_timeout: Duration,
    /// The ceiling for a request that keeps reporting progress.
    pub max_timeout: Duration,
    /// How long the first requests wait for upstreams that are still starting; later
    /// arrivals are announced with `list_changed`.
    pub startup_timeout: Duration,
    /// How long a server may take to answer `initialize` before it is restarted. Generous,
    /// because `npx -y` downloads its package on first use, and nothing waits on it.
    pub handshake_timeout: Duration,
    /// The longest line accepted from the client or from an upstream.
    pub max_message_bytes: usize,
    /// The longest exposed tool or prompt name.
    pub max_name_length: usize,
    /// Items per page in list answers; 0 sends every item in one page.
    pub page_size: usize,
    /// Answer the first lists from the servers' last known catalogs.
    pub catalog_cache: bool,
    /// When child-process servers start, unless a server says otherwise.
    pub start: StartMode,
    /// Stop a child-process server unused for this long (it starts again when next used);
    /// `None`: never.
    pub idle_stop: Option<Duration>,
    /// `mcpgw proxy`: one server whose names and identity pass through untouched. Not a
    /// config key; the proxy command sets it.
    pub passthrough: bool,
    /// `serve` reads the config again when its file changes (SIGHUP and `/admin/reload`
    /// work either way).
    pub reload_on_change: bool,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        GatewaySettings {
            separator: "__".into(),
            request_timeout: Duration::from_secs(120),
            max_timeout: Duration::from_secs(3600),
            startup_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(300),
            max_message_bytes: 16 * 1024 * 1024,
            // 64, less what Claude Code puts in front: `mcp__<entry>__` for an entry of up to
            // five characters, such as "mcpgw".
            max_name_length: 52,
            page_size: 0,
            catalog_cache: true,
            start: StartMode::Eager,
            idle_stop: None,
            passthrough: false,
            reload_on_change: true,
        }
    }
}

/// `start = "eager" | "lazy"`: when a child-process server is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartMode {
    /// With the gateway (the default): its tools are there from the first list.
    #[default]
    Eager,
    /// On its first request, when its lists are known from the catalog cache; a server never
    /// seen before starts at once to learn them.
    Lazy,
}

/// `protocol = "auto" | "modern" | "legacy"`: which era of MCP a server is spoken to in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Era {
    /// Found out (the default): a `server/discover` probe, falling back to `initialize`.
    #[default]
    Auto,
    /// The stateless revision (2026-07-28) only: no `initialize`.
    Modern,
    /// The handshake only: `initialize`, never a probe.
    Legacy,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    pub name: String,
    pub enabled: bool,
    pub transport: Transport,
    pub tools: NameFilter,
    pub prompts: NameFilter,
    pub request_timeout: Duration,
    pub handshake_timeout: Duration,
    /// Child-process servers only; remote servers are always connected at start.
    pub start: StartMode,
    /// Child-process servers only: stop the child after this long unused.
    pub idle_stop: Option<Duration>,
    pub era: Era,
    /// Its tools and prompts are named `server__name` (`prefix = false`: plain names,
    /// collisions still told apart).
    pub prefix: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Transport {
    Stdio(StdioConfig),
    Http(Box<HttpConfig>),
}

/// How messages reach a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportKind {
    /// A child process, over its stdin and stdout.
    Stdio,
    /// Streamable HTTP.
    StreamableHttp,
    /// The legacy HTTP+SSE transport.
    Sse,
}

impl TransportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Stdio => "stdio",
            TransportKind::StreamableHttp => "streamable-http",
            TransportKind::Sse => "sse",
        }
    }
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Transport {
    /// The transport tried first (an HTTP server may turn out to speak the other one).
    pub fn kind(&self) -> TransportKind {
        match self {
            Transport::Stdio(_) => TransportKind::Stdio,
            Transport::Http(h) => match h.mode {
                HttpMode::SseOnly | HttpMode::SseFirst => TransportKind::Sse,
                _ => TransportKind::StreamableHttp,
            },
        }
    }

    /// A one-line description for `mcpgw list`.
    pub fn target(&self) -> String {
        match self {
            Transport::Stdio(s) => std::iter::once(s.command.as_str())
                .chain(s.args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
            Transport::Http(h) => h.url.to_string(),
        }
    }
}

/// A remote server, over Streamable HTTP or the legacy HTTP+SSE transport.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    pub url: reqwest::Url,
    /// Sent with every request, after `${VAR}` expansion.
    pub headers: Vec<(String, String)>,
    pub mode: HttpMode,
    pub tls: TlsConfig,
    pub auth: AuthMode,
    pub oauth: OAuthSettings,
    /// Identity of the HTTP face's caller sent along (`X-User-Email`, …).
    pub forward_identity: Vec<crate::principal::Field>,
}

impl HttpConfig {
    /// `Some(true)`: `auth = "oauth"`; `Some(false)`: OAuth if the server asks for it (no
    /// credential header of its own); `None`: never.
    pub fn oauth_need(&self) -> Option<bool> {
        match self.auth {
            AuthMode::OAuth => Some(true),
            AuthMode::None => None,
            AuthMode::Auto => {
                (!self.headers.iter().any(|(k, _)| secret_header(k))).then_some(false)
            }
        }
    }
}

/// `auth = ...` of a remote server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// OAuth when the server asks for it (a 401) and no API key header is configured.
    #[default]
    Auto,
    /// `auth = "oauth"`: the server needs a login; `mcpgw list` says so before it asks.
    OAuth,
    /// `auth = "none"`: a 401 is an error, never a login.
    None,
}

/// `[servers.x.oauth]`: how mcpgw identifies itself to the server's authorization server.
/// Everything is optional: by default mcpgw registers itself dynamically.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OAuthSettings {
    /// A client registered with the authorization server beforehand.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// The HTTPS URL of a client ID metadata document, used where the server supports them.
    pub client_metadata_url: Option<String>,
    /// Scopes to ask for instead of the ones the server suggests.
    pub scopes: Vec<String>,
    /// A fixed port for the loopback redirect (for clients registered with a fixed one).
    pub redirect_port: Option<u16>,
    /// The name tokens are kept under in the secret store: the server's name, or (for
    /// `mcpgw proxy`) its URL.
    pub store_key: String,
}

/// Which HTTP transport to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMode {
    /// Streamable HTTP, falling back to HTTP+SSE when the server refuses it (the default).
    HttpFirst,
    HttpOnly,
    SseOnly,
    /// The legacy transport first, then Streamable HTTP (mcp-remote's `sse-first`).
    SseFirst,
}

impl HttpMode {
    pub fn parse(s: &str) -> Option<HttpMode> {
        match s {
            "http-first" => Some(HttpMode::HttpFirst),
            "http-only" => Some(HttpMode::HttpOnly),
            "sse-only" => Some(HttpMode::SseOnly),
            "sse-first" => Some(HttpMode::SseFirst),
            _ => None,
        }
    }
}

/// Certificates for servers inside a company network: a private CA, and a client identity
/// for mutual TLS.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TlsConfig {
    pub ca: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StdioConfig {
    pub command: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
}

/// Which tools (or prompts) of a server are exposed: `allow` (when given) then `deny`.
#[derive(Debug, Clone, Default)]
pub struct NameFilter {
    allow: Option<GlobSet>,
    deny: Option<GlobSet>,
    /// The globs as written (`allow`, `deny`): what tells two filters apart.
    written: (Option<Vec<String>>, Vec<String>),
}

impl PartialEq for NameFilter {
    fn eq(&self, other: &Self) -> bool {
        self.written == other.written
    }
}

impl NameFilter {
    pub fn allows(&self, name: &str) -> bool {
        self.allow.as_ref().is_none_or(|a| a.is_match(name))
            && !self.deny.as_ref().is_some_and(|d| d.is_match(name))
    }
}

impl Config {
    /// Where the config lives when neither `--config` nor `MCPGW_CONFIG` says.
    pub fn default_path() -> Option<PathBuf> {
        Some(mcpgw_platform::paths::config_dir()?.join("config.toml"))
    }

    /// Loads `explicit`, or the default file. A missing default file is an empty config; a
    /// missing explicit one is an error.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, required) = match explicit {
            Some(p) => (p.to_owned(), true),
            None => match Self::default_path() {
                Some(p) => (p, false),
                None => return Ok(Self::empty()),
            },
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                // Expanded `${VAR}` values look literal once resolved: judge the file's own text.
                let unexpanded = Self::parse_with_env(&path, &text, |_| Some("${}".into()));
                let config = Self::parse(&path, &text)?;
                if let Ok(unexpanded) = unexpanded {
                    warn_if_exposed(&path, &unexpanded.literal_credentials());
                }
                Ok(config)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                tracing::warn!(
                    "no config at {}; serving no upstreams (see examples/mcpgw.toml)",
                    path.display()
                );
                Ok(Self::empty())
            }
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    fn empty() -> Config {
        Config {
            path: None,
            gateway: GatewaySettings::default(),
            servers: vec![],
            secrets: SecretsSettings::default(),
            listen: ListenSettings::default(),
            audit: AuditSettings::default(),
        }
    }

    /// Parses and resolves config text; `path` is only used to name the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        Self::parse_with_env(path, text, |k| std::env::var(k).ok())
    }

    pub fn parse_with_env(
        path: &Path,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let at = Location::new(path, text, e.span().map_or(0, |s| s.start));
            ConfigError::Invalid {
                at,
                message: describe_toml_error(&e),
            }
        })?;
        Resolver {
            path,
            text,
            env: &env,
        }
        .resolve(raw)
    }
}

/// toml's message, with the nearest valid key added to an unknown-key error.
fn describe_toml_error(e: &toml::de::Error) -> String {
    let message = e.message().trim().to_owned();
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message;
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return message;
    };
    let candidates: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|c| !c.is_empty())
        .collect();
    let nearest = candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(unknown, c), c))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match nearest {
        Some((_, key)) => format!("unknown key `{unknown}`; did you mean `{key}`?"),
        None => format!(
            "unknown key `{unknown}`; valid keys here: {}",
            candidates.join(", ")
        ),
    }
}

struct Resolver<'a> {
    path: &'a Path,
    text: &'a str,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Resolver<'_> {
    fn error(&self, offset: usize, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            at: Location::new(self.path, self.text, offset),
            message: message.into(),
        }
    }

    /// The string with `${VAR}` expanded, where `{secret}` has no place.
    fn string(&self, t: &Text, what: &str) -> Result<String, ConfigError> {
        let value = self.secret_string(t, what)?;
        if value.contains(SECRET) {
            return Err(self.error(
                t.span().start,
                format!("{what}: `{{secret}}` goes in `env` values, `args` and `headers` values, not here"),
            ));
        }
        Ok(value)
    }

    /// The string with `${VAR}` expanded; `{secret}` stays, for the upstream to fill in from
    /// the secret store when it starts.
    fn secret_string(&self, t: &Text, what: &str) -> Result<String, ConfigError> {
        expand(t.get_ref(), self.env)
            .map_err(|e| self.error(t.span().start, format!("{what}: {e}")))
    }

    /// A size in bytes, written like `example`.
    fn size(&self, t: &Text, key: &str, example: &str) -> Result<u64, ConfigError> {
        let size: bytesize::ByteSize = t.get_ref().parse().map_err(|e| {
            self.error(
                t.span().start,
                format!("`{key}`: {e} (write it like \"{example}\")"),
            )
        })?;
        Ok(size.as_u64())
    }

    fn duration(
        &self,
        t: &Option<Text>,
        key: &str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        let Some(t) = t else { return Ok(default) };
        let d = humantime::parse_duration(t.get_ref()).map_err(|e| {
            self.error(
                t.span().start,
                format!("`{key}`: {e} (write it like \"30s\" or \"2m\")"),
            )
        })?;
        if d.is_zero() {
            return Err(self.error(t.span().start, format!("`{key}` must be longer than zero")));
        }
        Ok(d)
    }

    fn resolve(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let defaults = GatewaySettings::default();
        let g = &raw.gateway;
        let separator = match &g.separator {
            Some(s) if s.get_ref().is_empty() || !is_name(s.get_ref()) => {
                return Err(self.error(
                    s.span().start,
                    "`separator` must be made of letters, digits, `_` and `-`",
                ));
            }
            Some(s) => s.get_ref().clone(),
            None => defaults.separator,
        };
        let max_message_bytes = match &g.max_message_size {
            Some(t) => {
                let size = self.size(t, "max_message_size", "16MiB")?;
                if size < 1024 {
                    return Err(
                        self.error(t.span().start, "`max_message_size` must be at least 1KiB")
                    );
                }
                size as usize
            }
            None => defaults.max_message_bytes,
        };
        let max_name_length = match &g.max_name_length {
            Some(n) if !(16..=128).contains(n.get_ref()) => {
                return Err(self.error(
                    n.span().start,
                    "`max_name_length` must be between 16 and 128",
                ));
            }
            Some(n) => *n.get_ref() as usize,
            None => defaults.max_name_length,
        };
        let page_size = match &g.page_size {
            Some(n) if *n.get_ref() < 0 => {
                return Err(self.error(n.span().start, "`page_size` cannot be negative"));
            }
            Some(n) => *n.get_ref() as usize,
            None => defaults.page_size,
        };
        let request_timeout = self.duration(
            &g.request_timeout,
            "request_timeout",
            defaults.request_timeout,
        )?;
        let gateway = GatewaySettings {
            separator,
            request_timeout,
            max_timeout: self
                .duration(&g.max_timeout, "max_timeout", defaults.max_timeout)?
                .max(request_timeout),
            startup_timeout: self.duration(
                &g.startup_timeout,
                "startup_timeout",
                defaults.startup_timeout,
            )?,
            handshake_timeout: self.duration(
                &g.handshake_timeout,
                "handshake_timeout",
                defaults.handshake_timeout,
            )?,
            max_message_bytes,
            max_name_length,
            page_size,
            catalog_cache: g.catalog_cache.unwrap_or(defaults.catalog_cache),
            start: self.start_mode(&g.start, "gateway.start", defaults.start)?,
            idle_stop: self.idle_stop(&g.idle_stop, "gateway.idle_stop", defaults.idle_stop)?,
            passthrough: false,
            reload_on_change: g.reload_on_change.unwrap_or(defaults.reload_on_change),
        };
        let servers = raw
            .servers
            .iter()
            .map(|(name, server)| self.server(name, server, &gateway))
            .collect::<Result<Vec<_>, _>>()?;
        let secrets = SecretsSettings {
            store: match &raw.secrets.store {
                None => crate::secrets::Choice::Auto,
                Some(t) => match t.get_ref().as_str() {
                    "auto" => crate::secrets::Choice::Auto,
                    "keyring" => crate::secrets::Choice::Keyring,
                    "file" => crate::secrets::Choice::File,
                    _ => {
                        return Err(self.error(
                            t.span().start,
                            "`secrets.store`: use \"auto\", \"keyring\" or \"file\"",
                        ));
                    }
                },
            },
            file: raw
                .secrets
                .file
                .as_ref()
                .map(|f| self.string(f, "secrets.file").map(PathBuf::from))
                .transpose()?,
        };
        let listen = self.listen(&raw.listen)?;
        for key in &listen.keys {
            for server in key.grant.servers.iter().flatten() {
                if !servers.iter().any(|s| &s.name == server) {
                    return Err(ConfigError::Invalid {
                        at: Location::new(self.path, self.text, 0),
                        message: format!(
                            "listen.keys.{}.servers: no server is named `{server}`",
                            key.name
                        ),
                    });
                }
            }
        }
        Ok(Config {
            path: Some(self.path.to_owned()),
            gateway,
            servers,
            secrets,
            listen,
            audit: self.audit(&raw.audit)?,
        })
    }

    fn server(
        &self,
        name: &toml::Spanned<String>,
        raw: &RawServer,
        gateway: &GatewaySettings,
    ) -> Result<ServerConfig, ConfigError> {
        let at = name.span().start;
        let name = name.get_ref().clone();
        if !is_name(&name) || name.len() > 32 {
            return Err(self.error(
                at,
                format!("server name `{name}`: use 1 to 32 letters, digits, `_` or `-` (it prefixes every tool name)"),
            ));
        }
        let what = |key: &str| format!("servers.{name}.{key}");
        let transport = match (&raw.command, &raw.url) {
            (Some(command), None) => Transport::Stdio(StdioConfig {
                command: self.string(command, &what("command"))?,
                args: raw
                    .args
                    .iter()
                    .map(|a| self.secret_string(a, &what("args")))
                    .collect::<Result<_, _>>()?,
                env: raw
                    .env
                    .iter()
                    .map(|(k, v)| {
                        Ok((
                            k.clone(),
                            self.secret_string(v, &what(&format!("env.{k}")))?,
                        ))
                    })
                    .collect::<Result<_, ConfigError>>()?,
                cwd: raw
                    .cwd
                    .as_ref()
                    .map(|c| self.string(c, &what("cwd")).map(PathBuf::from))
                    .transpose()?,
            }),
            (None, Some(url)) => Transport::Http(Box::new(self.http(&name, url, raw)?)),
            (Some(_), Some(url)) => {
                return Err(self.error(
                    url.span().start,
                    format!("server `{name}` has both `command` and `url`; keep one"),
                ));
            }
            (None, None) => {
                return Err(self.error(at, format!("server `{name}` needs a `command` to run")));
            }
        };
        match &transport {
            Transport::Stdio(s) if s.command.trim().is_empty() => {
                return Err(self.error(at, format!("{} is empty", what("command"))));
            }
            Transport::Stdio(_)
                if raw.url.is_none()
                    && (!raw.headers.is_empty()
                        || raw.transport.is_some()
                        || raw.tls.is_some()
                        || raw.allow_http.is_some()
                        || raw.auth.is_some()
                        || raw.oauth.is_some()
                        || raw.forward_identity.is_some()) =>
            {
                return Err(self.error(at, format!("server `{name}`: `headers`, `transport`, `tls`, `allow_http`, `auth`, `oauth` and `forward_identity` are for `url` servers")));
            }
            Transport::Http(_)
                if !raw.args.is_empty()
                    || !raw.env.is_empty()
                    || raw.cwd.is_some()
                    || raw.start.is_some()
                    || raw.idle_stop.is_some() =>
            {
                return Err(self.error(
                    at,
                    format!("server `{name}`: `args`, `env`, `cwd`, `start` and `idle_stop` are for `command` servers"),
                ));
            }
            _ => {}
        }
        let (start, idle_stop) = match &transport {
            Transport::Stdio(_) => (
                self.start_mode(&raw.start, &format!("servers.{name}.start"), gateway.start)?,
                self.idle_stop(
                    &raw.idle_stop,
                    &format!("servers.{name}.idle_stop"),
                    gateway.idle_stop,
                )?,
            ),
            Transport::Http(_) => (StartMode::Eager, None),
        };
        Ok(ServerConfig {
            enabled: raw.enabled.unwrap_or(true),
            tools: self.filter(&raw.tools)?,
            prompts: self.filter(&raw.prompts)?,
            request_timeout: self.duration(
                &raw.request_timeout,
                "request_timeout",
                gateway.request_timeout,
            )?,
            handshake_timeout: self.duration(
                &raw.handshake_timeout,
                "handshake_timeout",
                gateway.handshake_timeout,
            )?,
            start,
            idle_stop,
            era: self.era(&raw.protocol, &format!("servers.{name}.protocol"))?,
            prefix: raw.prefix.unwrap_or(true),
            transport,
            name,
        })
    }

    fn start_mode(
        &self,
        t: &Option<Text>,
        key: &str,
        default: StartMode,
    ) -> Result<StartMode, ConfigError> {
        match t.as_ref().map(|t| (t, t.get_ref().as_str())) {
            None => Ok(default),
            Some((_, "eager")) => Ok(StartMode::Eager),
            Some((_, "lazy")) => Ok(StartMode::Lazy),
            Some((t, other)) => Err(self.error(
                t.span().start,
                format!("`{key}`: {other:?} is neither \"eager\" nor \"lazy\""),
            )),
        }
    }

    fn era(&self, t: &Option<Text>, key: &str) -> Result<Era, ConfigError> {
        match t.as_ref().map(|t| (t, t.get_ref().as_str())) {
            None | Some((_, "auto")) => Ok(Era::Auto),
            Some((_, "modern" | "2026-07-28")) => Ok(Era::Modern),
            Some((_, "legacy")) => Ok(Era::Legacy),
            Some((t, other)) => Err(self.error(
                t.span().start,
                format!("`{key}`: {other:?} is none of \"auto\", \"modern\", \"legacy\""),
            )),
        }
    }

    /// A duration, or "off" (which also turns off a default from `[gateway]`).
    fn idle_stop(
        &self,
        t: &Option<Text>,
        key: &str,
        default: Option<Duration>,
    ) -> Result<Option<Duration>, ConfigError> {
        match t {
            Some(t) if t.get_ref() == "off" => Ok(None),
            Some(_) => self.duration(t, key, Duration::ZERO).map(Some),
            None => Ok(default),
        }
    }

    fn http(
        &self,
        name: &str,
        url_text: &Text,
        raw: &RawServer,
    ) -> Result<HttpConfig, ConfigError> {
        let what = |key: &str| format!("servers.{name}.{key}");
        let at = url_text.span().start;
        let text = self.string(url_text, &what("url"))?;
        let url = reqwest::Url::parse(&text)
            .map_err(|e| self.error(at, format!("{}: {e}: {text:?}", what("url"))))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) || raw.allow_http == Some(true) => {}
            "http" => {
                return Err(self.error(
                    at,
                    format!("{}: plain http would send requests (and credentials) unencrypted; use https, or set `allow_http = true`", what("url")),
                ));
            }
            other => {
                return Err(self.error(
                    at,
                    format!(
                        "{}: `{other}` URLs are not MCP servers; use https",
                        what("url")
                    ),
                ));
            }
        }
        let mode = match &raw.transport {
            None => HttpMode::HttpFirst,
            Some(t) => HttpMode::parse(t.get_ref()).ok_or_else(|| {
                self.error(
                    t.span().start,
                    format!(
                        "{}: use \"http-first\", \"http-only\", \"sse-only\" or \"sse-first\"",
                        what("transport")
                    ),
                )
            })?,
        };
        let mut headers = vec![];
        for (key, value) in &raw.headers {
            let ok_name = !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_!#$%&'*+.^`|~".contains(&b));
            if !ok_name {
                return Err(self.error(
                    value.span().start,
                    format!("{}: `{key}` is not a valid header name", what("headers")),
                ));
            }
            let value_text = self.secret_string(value, &what(&format!("headers.{key}")))?;
            if value_text.contains(['\r', '\n']) {
                return Err(self.error(
                    value.span().start,
                    format!(
                        "{}: a header value cannot span lines",
                        what(&format!("headers.{key}"))
                    ),
                ));
            }
            headers.push((key.clone(), value_text));
        }
        let path = |t: &Option<Text>, key: &str| -> Result<Option<PathBuf>, ConfigError> {
            t.as_ref()
                .map(|t| {
                    self.string(t, &what(&format!("tls.{key}")))
                        .map(PathBuf::from)
                })
                .transpose()
        };
        let tls = match &raw.tls {
            None => TlsConfig::default(),
            Some(t) => {
                let tls = TlsConfig {
                    ca: path(&t.ca, "ca")?,
                    client_cert: path(&t.client_cert, "client_cert")?,
                    client_key: path(&t.client_key, "client_key")?,
                };
                if tls.client_cert.is_some() != tls.client_key.is_some() {
                    return Err(self.error(
                        at,
                        format!(
                            "{}: `client_cert` and `client_key` go together",
                            what("tls")
                        ),
                    ));
                }
                tls
            }
        };
        let auth = match raw.auth.as_ref().map(|a| (a, a.get_ref().as_str())) {
            None => AuthMode::Auto,
            Some((_, "oauth")) => AuthMode::OAuth,
            Some((_, "none")) => AuthMode::None,
            Some((a, _)) => {
                return Err(self.error(
                    a.span().start,
                    format!("{}: use \"oauth\" or \"none\"", what("auth")),
                ));
            }
        };
        let mut oauth = OAuthSettings {
            store_key: name.to_owned(),
            ..OAuthSettings::default()
        };
        if let Some(o) = &raw.oauth {
            let text = |t: &Option<Text>, key: &str| {
                t.as_ref()
                    .map(|t| self.string(t, &what(&format!("oauth.{key}"))))
                    .transpose()
            };
            oauth.client_id = text(&o.client_id, "client_id")?;
            oauth.client_secret = text(&o.client_secret, "client_secret")?;
            oauth.client_metadata_url = text(&o.client_metadata_url, "client_metadata_url")?;
            if let Some(scopes) = &o.scopes {
                for scope in scopes {
                    oauth
                        .scopes
                        .push(self.string(scope, &what("oauth.scopes"))?);
                }
            }
            if let Some(port) = &o.redirect_port {
                oauth.redirect_port = Some(
                    u16::try_from(*port.get_ref())
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| {
                            self.error(
                                port.span().start,
                                format!("{}: a port from 1 to 65535", what("oauth.redirect_port")),
                            )
                        })?,
                );
            }
            if oauth.client_secret.is_some() && oauth.client_id.is_none() {
                return Err(self.error(
                    at,
                    format!(
                        "{}: `client_secret` needs the `client_id` it belongs to",
                        what("oauth")
                    ),
                ));
            }
            if let Some(u) = &oauth.client_metadata_url
                && !reqwest::Url::parse(u).is_ok_and(|u| u.scheme() == "https" && u.path() != "/")
            {
                return Err(self.error(at, format!("{}: an https URL with a path, where the client ID metadata document is served", what("oauth.client_metadata_url"))));
            }
        }
        if auth == AuthMode::None && raw.oauth.is_some() {
            return Err(self.error(
                at,
                format!("server `{name}`: `oauth` settings with `auth = \"none\"`"),
            ));
        }
        let forward_identity = raw
            .forward_identity
            .iter()
            .flatten()
            .map(|t| {
                crate::principal::Field::parse(t.get_ref()).ok_or_else(|| {
                    self.error(
                        t.span().start,
                        format!(
                            "{}: {:?} is none of \"email\", \"name\", \"team\", \"roles\", \"org\"",
                            what("forward_identity"),
                            t.get_ref()
                        ),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(HttpConfig {
            url,
            headers,
            mode,
            tls,
            auth,
            oauth,
            forward_identity,
        })
    }

    fn filter(&self, raw: &RawFilter) -> Result<NameFilter, ConfigError> {
        let set = |globs: &[Text]| -> Result<Option<GlobSet>, ConfigError> {
            if globs.is_empty() {
                return Ok(None);
            }
            let mut b = GlobSetBuilder::new();
            for g in globs {
                b.add(
                    Glob::new(g.get_ref())
                        .map_err(|e| self.error(g.span().start, e.to_string()))?,
                );
            }
            Ok(Some(
                b.build().expect("globs that compiled alone build a set"),
            ))
        };
        Ok(NameFilter {
            allow: match &raw.allow {
                Some(a) => Some(set(a)?.unwrap_or_else(GlobSet::empty)),
                None => None,
            },
            deny: set(&raw.deny)?,
            written: (
                raw.allow
                    .as_ref()
                    .map(|a| a.iter().map(|g| g.get_ref().clone()).collect()),
                raw.deny.iter().map(|g| g.get_ref().clone()).collect(),
            ),
        })
    }
}

/// Says so when other users can read a config that holds credentials in plain text.
fn warn_if_exposed(path: &Path, literal: &[String]) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.permissions().mode() & 0o044 != 0 && !literal.is_empty() {
            tracing::warn!(
                "{} is readable by other users and holds credentials in plain text ({}): store each with `mcpgw add-key SERVER` and write {{secret}} in its place, or `chmod 600 {}`",
                path.display(),
                literal.join(", "),
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = (path, literal);
}

/// Whether an env variable of this name holds a credential.
pub fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "KEY",
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "_PAT",
        "AUTH",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

/// Whether a header of this name carries a credential.
pub fn secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "authorization"
        || lower == "cookie"
        || lower.contains("api-key")
        || lower.contains("apikey")
        || lower.contains("token")
        || lower.contains("secret")
}

impl Config {
    /// The places where this config holds what looks like a literal credential (not
    /// `{secret}`, not `${VAR}`): `servers.x.env.GITHUB_TOKEN` and the like.
    pub fn literal_credentials(&self) -> Vec<String> {
        let literal = |v: &str| !v.is_empty() && !v.contains(SECRET) && !v.contains("${");
        let mut found = vec![];
        for s in &self.servers {
            match &s.transport {
                Transport::Stdio(c) => {
                    for (k, v) in &c.env {
                        if secret_name(k) && literal(v) {
                            found.push(format!("servers.{}.env.{k}", s.name));
                        }
                    }
                }
                Transport::Http(h) => {
                    for (k, v) in &h.headers {
                        if secret_header(k) && literal(v) {
                            found.push(format!("servers.{}.headers.{k}", s.name));
                        }
                    }
                    if h.oauth.client_secret.as_deref().is_some_and(literal) {
                        found.push(format!("servers.{}.oauth.client_secret", s.name));
                    }
                }
            }
        }
        found
    }
}

/// The placeholder for a server's API key from the secret store (`mcpgw add-key`).
pub const SECRET: &str = "{secret}";

impl ServerConfig {
    /// Whether the server logs in with OAuth: `auth = "oauth"` (`Some(true)`), or it may ask
    /// for it with a 401 (`Some(false)`: a URL server with no credential header).
    pub fn oauth(&self) -> Option<bool> {
        match &self.transport {
            Transport::Http(h) => h.oauth_need(),
            Transport::Stdio(_) => None,
        }
    }

    /// Whether the server's env, args or headers use `{secret}`.
    pub fn needs_secret(&self) -> bool {
        match &self.transport {
            Transport::Stdio(s) => s
                .args
                .iter()
                .chain(s.env.iter().map(|(_, v)| v))
                .any(|v| v.contains(SECRET)),
            Transport::Http(h) => h.headers.iter().any(|(_, v)| v.contains(SECRET)),
        }
    }
}

/// Whether a URL points at this machine, where plain http never leaves it.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Letters, digits, `_` and `-`: what MCP hosts accept in tool names.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse_with_env(Path::new("c.toml"), text, |k| {
            (k == "TOKEN").then(|| "t0k".to_owned())
        })
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn the_example_config_loads() {
        let c = Config::parse_with_env(Path::new("examples/mcpgw.toml"), EXAMPLE, |_| {
            Some("/home/example".into())
        })
        .unwrap();
        assert!(!c.servers.is_empty());
    }

    #[test]
    fn resolves_servers_and_settings() {
        let c = parse(
            r#"
            [gateway]
            separator = "-"
            request_timeout = "5s"
            [servers.b]
            command = "node"
            args = ["x.js", "${TOKEN}"]
            env = { K = "v-${TOKEN}" }
            tools = { allow = ["get_*", "echo"], deny = ["get_secret"] }
            [servers.a]
            command = "a"
            enabled = false
            "#,
        )
        .unwrap();
        assert_eq!(c.gateway.separator, "-");
        assert_eq!(c.gateway.request_timeout, Duration::from_secs(5));
        let names: Vec<_> = c.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(!c.servers[0].enabled);
        let b = &c.servers[1];
        let Transport::Stdio(s) = &b.transport else {
            panic!("a command server")
        };
        assert_eq!(s.args, ["x.js", "t0k"]);
        assert_eq!(s.env, [("K".to_owned(), "v-t0k".to_owned())]);
        assert!(b.tools.allows("get_sum") && b.tools.allows("echo"));
        assert!(!b.tools.allows("get_secret") && !b.tools.allows("other"));
        assert!(b.prompts.allows("anything"));
        assert_eq!(b.request_timeout, Duration::from_secs(5));
    }

    #[test]
    fn unknown_keys_name_line_and_nearest_key() {
        let e = err("[servers.x]\ncommand = \"a\"\ncomand = \"b\"\n");
        assert!(
            e.starts_with("c.toml:3:1: unknown key `comand`; did you mean `command`?"),
            "{e}"
        );
        let e = err("[gatway]\n");
        assert!(e.contains("did you mean `gateway`"), "{e}");
    }

    #[test]
    fn bad_values_are_located() {
        let e = err("[servers.x]\ncommand = \"a\"\nargs = [\"${MISSING}\"]\n");
        assert!(
            e.contains("c.toml:3:") && e.contains("`MISSING` is not set"),
            "{e}"
        );
        assert!(e.contains("servers.x.args"), "{e}");
        let e = err("[gateway]\nrequest_timeout = \"soon\"\n");
        assert!(e.starts_with("c.toml:2:19: `request_timeout`"), "{e}");
        let e = err("[servers.\"a.b\"]\ncommand = \"a\"\n");
        assert!(e.contains("server name `a.b`"), "{e}");
        let e = err("[servers.x]\nargs = []\n");
        assert!(e.contains("needs a `command`"), "{e}");
        let e = err("[servers.x]\ncommand = \"a\"\ntools = { deny = [\"[\"] }\n");
        assert!(e.starts_with("c.toml:3:"), "{e}");
        let e = err("[servers.x]\ncommand = \"{secret}\"\n");
        assert!(e.contains("`{secret}` goes in `env` values"), "{e}");
        let c = parse("[servers.x]\ncommand = \"a\"\nenv = { K = \"{secret}\" }\n[servers.y]\ncommand = \"b\"\n").unwrap();
        assert!(c.servers[0].needs_secret() && !c.servers[1].needs_secret());
        let e = err("[servers.x]\ncommand = 3\n");
        assert!(e.starts_with("c.toml:2:"), "{e}");
    }

    #[test]
    fn start_and_idle_stop_default_from_the_gateway_and_apply_to_child_processes() {
        let c = parse(
            "[gateway]\nstart = \"lazy\"\nidle_stop = \"15m\"\n\
             [servers.a]\ncommand = \"a\"\n\
             [servers.b]\ncommand = \"b\"\nstart = \"eager\"\nidle_stop = \"off\"\n\
             [servers.r]\nurl = \"https://example.com/mcp\"\n",
        )
        .unwrap();
        let by = |n: &str| c.servers.iter().find(|s| s.name == n).unwrap();
        assert_eq!(by("a").start, StartMode::Lazy);
        assert_eq!(by("a").idle_stop, Some(Duration::from_secs(900)));
        assert_eq!(by("b").start, StartMode::Eager);
        assert_eq!(by("b").idle_stop, None);
        assert_eq!(
            by("r").start,
            StartMode::Eager,
            "remote servers connect at start"
        );
        assert_eq!(by("r").idle_stop, None);
        let e = err("[servers.x]\ncommand = \"a\"\nstart = \"later\"\n");
        assert!(
            e.contains("`servers.x.start`") && e.contains("\"later\""),
            "{e}"
        );
        let e = err("[servers.x]\nurl = \"https://example.com/mcp\"\nidle_stop = \"1m\"\n");
        assert!(e.contains("are for `command` servers"), "{e}");
    }
}
