//! The config file exactly as written: serde structs that only check shape.
//!
//! Every table denies unknown keys so a typo is an error with a line number, not a silently
//! ignored setting. Strings that are validated later keep their span for the same reason.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub type Text = Spanned<String>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub gateway: RawGateway,
    #[serde(default)]
    pub servers: BTreeMap<Spanned<String>, RawServer>,
    #[serde(default)]
    pub secrets: RawSecrets,
    #[serde(default)]
    pub listen: RawListen,
    #[serde(default)]
    pub audit: RawAudit,
}

/// `[listen]`: the HTTP face.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawListen {
    pub address: Option<Text>,
    #[serde(default)]
    pub keys: BTreeMap<Spanned<String>, RawKey>,
    pub tls: Option<RawFaceTls>,
    pub oauth: Option<RawFaceOAuth>,
}

/// `[listen.oauth]`: the face as an OAuth protected resource.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFaceOAuth {
    pub issuer: Option<Text>,
    pub resource: Option<Text>,
    pub audience: Option<Text>,
    #[serde(default)]
    pub scopes: Vec<Text>,
    #[serde(default)]
    pub claims: BTreeMap<Spanned<String>, Text>,
}

/// `[listen.tls]`: HTTPS, and client certificates.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFaceTls {
    pub cert: Option<Text>,
    pub key: Option<Text>,
    pub client_ca: Option<Text>,
    pub require_client_cert: Option<bool>,
}

/// `[listen.keys.NAME]`: a key from the environment, and what it grants.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKey {
    pub key: Option<Text>,
    pub servers: Option<Vec<Text>>,
    #[serde(default)]
    pub tools: Vec<Text>,
    pub rate: Option<Text>,
    pub admin: Option<bool>,
    #[serde(default)]
    pub identity: BTreeMap<Spanned<String>, Text>,
}

/// `[audit]`: the audit log.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAudit {
    pub file: Option<Text>,
    pub arguments: Option<bool>,
    pub max_size: Option<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecrets {
    pub store: Option<Text>,
    pub file: Option<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGateway {
    pub separator: Option<Text>,
    pub request_timeout: Option<Text>,
    pub max_timeout: Option<Text>,
    pub startup_timeout: Option<Text>,
    pub handshake_timeout: Option<Text>,
    pub max_message_size: Option<Text>,
    pub max_name_length: Option<Spanned<i64>>,
    pub page_size: Option<Spanned<i64>>,
    pub catalog_cache: Option<bool>,
    pub start: Option<Text>,
    pub idle_stop: Option<Text>,
    pub reload_on_change: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub command: Option<Text>,
    #[serde(default)]
    pub args: Vec<Text>,
    #[serde(default)]
    pub env: BTreeMap<String, Text>,
    pub cwd: Option<Text>,
    pub url: Option<Text>,
    #[serde(default)]
    pub headers: BTreeMap<String, Text>,
    pub transport: Option<Text>,
    pub allow_http: Option<bool>,
    pub tls: Option<RawTls>,
    pub auth: Option<Text>,
    pub oauth: Option<RawOAuth>,
    pub enabled: Option<bool>,
    pub request_timeout: Option<Text>,
    pub handshake_timeout: Option<Text>,
    pub start: Option<Text>,
    pub idle_stop: Option<Text>,
    pub protocol: Option<Text>,
    pub prefix: Option<bool>,
    pub forward_identity: Option<Vec<Text>>,
    #[serde(default)]
    pub tools: RawFilter,
    #[serde(default)]
    pub prompts: RawFilter,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub ca: Option<Text>,
    pub client_cert: Option<Text>,
    pub client_key: Option<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOAuth {
    pub client_id: Option<Text>,
    pub client_secret: Option<Text>,
    pub client_metadata_url: Option<Text>,
    pub scopes: Option<Vec<Text>>,
    pub redirect_port: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFilter {
    pub allow: Option<Vec<Text>>,
    #[serde(default)]
    pub deny: Vec<Text>,
}
