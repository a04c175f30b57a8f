//! The command line, as clap definitions only; each subcommand's work is in `commands/`.

use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand};
use clap_complete::Shell;

/// One MCP server entry for every MCP server you use.
///
/// Put `{"command": "mcpgw", "args": ["serve"]}` in your AI client's mcpServers config, and
/// list the real servers in mcpgw's config file. mcpgw starts them, namespaces their tools and
/// relays everything else both ways.
#[derive(Debug, Parser)]
#[command(name = "mcpgw", version, max_term_width = 100)]
pub struct Cli {
    /// The config file [default: ~/.config/mcpgw/config.toml, or the platform's config dir]
    #[arg(long, global = true, env = "MCPGW_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Write the log to this file instead of stderr
    #[arg(long, global = true, env = "MCPGW_LOG_FILE", value_name = "PATH")]
    pub log_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP on stdin/stdout: the command an AI client launches
    Serve {
        /// Serve Streamable HTTP at http://ADDR/mcp instead, for many clients at once (a
        /// loopback address unless API keys exist); without ADDR, `[listen] address` of the
        /// config, else 127.0.0.1:8080
        #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "")]
        listen: Option<String>,
    },
    /// Bridge stdin/stdout to one remote MCP server: a drop-in for `npx mcp-remote URL`
    Proxy(Box<ProxyArgs>),
    /// Show each configured server: transport, state, and what it offers
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Show the tools exactly as an AI client sees them
    Tools {
        /// Only this server's tools
        server: Option<String>,
        /// Print the tools/list JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Call one tool through the gateway and print its result
    Call {
        /// The tool's name as `mcpgw tools` shows it, e.g. everything__echo
        tool: String,
        /// The arguments, as a JSON object
        #[arg(value_name = "JSON")]
        arguments: Option<String>,
        /// Print the raw result JSON
        #[arg(long)]
        json: bool,
    },
    /// The HTTP face's API keys: who may use `mcpgw serve --listen`
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Store a server's API key in the secret store (it replaces `{secret}` in its config)
    AddKey {
        /// The server, as named in the config
        server: String,
        /// Read the key from standard input instead of a hidden prompt
        #[arg(long)]
        stdin: bool,
    },
    /// Forget a server's API key
    RemoveKey {
        /// The server, as named in the config
        server: String,
    },
    /// Log in to a remote server with OAuth; the tokens go to the secret store
    Login {
        /// The server, as named in the config, or the URL given to `mcpgw proxy`
        server: String,
        /// Do not open a browser: print the URL, and take the address it redirects to pasted
        #[arg(long)]
        no_browser: bool,
        /// Log in with a code entered on any device (RFC 8628), where the server offers it
        #[arg(long, conflicts_with = "no_browser")]
        device: bool,
        /// How long to wait for the browser [default: 5m]
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        timeout: Option<std::time::Duration>,
    },
    /// Forget a server's OAuth tokens, revoking them where the server offers it
    Logout {
        /// The server, as named in the config, or the URL given to `mcpgw proxy`
        server: String,
    },
    /// Bring an AI client's MCP servers into mcpgw: config into the config, secrets into the store
    Import {
        /// The client's config (Claude Desktop, Cursor, Claude Code, VS Code) [default: the first found in the usual places]
        file: Option<PathBuf>,
        /// Show what would be done, change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Print a shell completion script
    Completions {
        /// bash, zsh, fish, powershell or elvish
        shell: Shell,
    },
}

/// `mcpgw proxy`. The flags mcp-remote users already have in their configs are accepted.
#[derive(Debug, clap::Args)]
pub struct ProxyArgs {
    /// The server's URL (`${VAR}` is expanded)
    pub url: String,

    /// A fixed port for the OAuth redirect to 127.0.0.1 (mcp-remote's callback port)
    #[arg(value_name = "CALLBACK_PORT")]
    pub callback_port: Option<u16>,

    /// A header for every request, as 'Name: value' (repeatable; `${VAR}` is expanded)
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// http-first, http-only, sse-only or sse-first
    #[arg(long, default_value = "http-first", value_name = "MODE")]
    pub transport: String,

    /// Allow plain http to hosts other than this machine
    #[arg(long)]
    pub allow_http: bool,

    /// Hide the tools that match this glob (repeatable)
    #[arg(long = "ignore-tool", value_name = "GLOB")]
    pub ignore_tools: Vec<String>,

    /// mcp-remote's name for -v
    #[arg(long, hide = true)]
    pub debug: bool,

    /// mcp-remote's name for -q
    #[arg(long, hide = true)]
    pub silent: bool,

    /// OAuth: a client registered with the server's authorization server beforehand
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,

    /// OAuth: that client's secret (`${VAR}` is expanded)
    #[arg(long, value_name = "SECRET", requires = "client_id")]
    pub client_secret: Option<String>,

    /// OAuth: the HTTPS URL of mcpgw's client ID metadata document, for servers that take them
    #[arg(long, value_name = "URL")]
    pub client_metadata_url: Option<String>,

    /// OAuth: the scopes to ask for (repeatable) instead of the ones the server suggests
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,

    /// OAuth: print the login URL instead of opening a browser
    #[arg(long)]
    pub no_browser: bool,

    /// OAuth: log in with a code entered on any device (RFC 8628), where the server offers it
    #[arg(long, conflicts_with = "no_browser")]
    pub device: bool,

    /// mcp-remote's OAuth options: client info and metadata as JSON are read; the callback host
    /// is always 127.0.0.1, and the resource is what the server's metadata names
    #[arg(long, hide = true, value_name = "VALUE")]
    pub host: Option<String>,
    #[arg(long, hide = true, value_name = "JSON")]
    pub static_oauth_client_metadata: Option<String>,
    #[arg(long, hide = true, value_name = "JSON")]
    pub static_oauth_client_info: Option<String>,
    #[arg(long, hide = true, value_name = "VALUE")]
    pub resource: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysAction {
    /// Make a key; it is printed once, and only its hash is kept
    Create {
        /// What the key is for (shown by `keys list`, used to revoke it)
        name: String,
        /// How long it works, e.g. 30d or 12h [default: until revoked]
        #[arg(long, value_name = "DURATION")]
        expires: Option<String>,
        /// The only servers it reaches, comma-separated [default: every one]
        #[arg(long, value_name = "A,B", value_delimiter = ',')]
        servers: Option<Vec<String>>,
        /// Tools it may see and call, as a glob of their exposed names (repeatable), e.g.
        /// 'github__search_*' [default: every tool of its servers]
        #[arg(long = "tools", value_name = "GLOB")]
        tools: Vec<String>,
        /// Requests it may make, e.g. 120/m (per s, m or h) [default: no limit]
        #[arg(long, value_name = "N/PERIOD")]
        rate: Option<String>,
        /// It may use /admin/* (reload) and see /stats of every key
        #[arg(long)]
        admin: bool,
        /// Who holds it, sent to servers that ask for it (repeatable): email=…, name=…,
        /// team=…, roles=…, org=…
        #[arg(long, value_name = "FIELD=VALUE")]
        identity: Vec<String>,
    },
    /// The keys: name, first characters, scope, made, expires, last used (never the key)
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key: a running gateway refuses it from its next request
    Revoke { name: String },
    /// Replace a key with a new one of the same scope; the old one works for the grace period
    Rotate {
        name: String,
        /// How long the old key keeps working, e.g. 24h [default: 0, it stops at once]
        #[arg(long, value_name = "DURATION")]
        grace: Option<String>,
    },
}
