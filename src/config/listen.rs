//! `[listen]` (the HTTP face: its address and the keys it takes from the environment) and
//! `[audit]` (the audit log), resolved.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::principal::{self, Grant, Identity};

use super::raw::{RawAudit, RawFaceOAuth, RawFaceTls, RawKey, RawListen, Text};
use super::{ConfigError, Resolver};

/// `[listen]`.
#[derive(Debug, Clone, Default)]
pub struct ListenSettings {
    /// Where `mcpgw serve` listens when `--listen` is not given.
    pub address: Option<SocketAddr>,
    /// Keys from the environment (`key = "${VAR}"`), beside the keys file's.
    pub keys: Vec<ConfigKey>,
    pub tls: Option<FaceTls>,
    pub oauth: Option<FaceOAuth>,
}

/// `[listen.oauth]`: access tokens (JWTs) of `issuer` for this face are a way in.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceOAuth {
    /// The authorization server: its metadata (and so its keys) is found from here.
    pub issuer: String,
    /// The face's own URL as clients reach it (its Protected Resource Metadata names it);
    /// `None`: `http(s)://ADDRESS/mcp` of where it listens.
    pub resource: Option<String>,
    /// What a token's `aud` must hold; `None`: the resource.
    pub audience: Option<String>,
    /// Scopes every token must carry.
    pub scopes: Vec<String>,
    /// Claims mapped: `email`, `name`, `team`, `roles`, `org` (the identity) and `servers`
    /// (the servers the token reaches; all when the token has no such claim), each to the
    /// name of the claim that holds it.
    pub claims: Vec<(String, String)>,
}

/// `[listen.tls]`: the face speaks HTTPS with `cert` and `key` (PEM); with `client_ca`, a
/// client certificate it signed authenticates its holder (required with
/// `require_client_cert`).
#[derive(Debug, Clone, PartialEq)]
pub struct FaceTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
    pub require_client_cert: bool,
}

/// `[listen.keys.NAME]`: a key kept only as its hash, and what it grants.
#[derive(Clone)]
pub struct ConfigKey {
    pub name: String,
    /// SHA-256 of the key, hex.
    pub hash: String,
    pub grant: Grant,
}

impl std::fmt::Debug for ConfigKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigKey")
            .field("name", &self.name)
            .field("grant", &self.grant)
            .finish_non_exhaustive()
    }
}

/// `[audit]`.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// JSON Lines; none: no audit log.
    pub file: Option<PathBuf>,
    /// Tool calls' arguments too (secrets redacted).
    pub arguments: bool,
    /// The file is rotated (to `FILE.1`) when it grows past this.
    pub max_bytes: u64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            file: None,
            arguments: false,
            max_bytes: 10 * 1024 * 1024,
        }
    }
}

/// The shortest key accepted from the environment.
const MIN_KEY: usize = 32;

impl Resolver<'_> {
    pub(super) fn listen(&self, raw: &RawListen) -> Result<ListenSettings, ConfigError> {
        let address = raw
            .address
            .as_ref()
            .map(|t| {
                self.string(t, "listen.address")?.parse().map_err(|e| {
                    self.error(
                        t.span().start,
                        format!("`listen.address`: {e} (write it like \"127.0.0.1:8080\")"),
                    )
                })
            })
            .transpose()?;
        let keys = raw
            .keys
            .iter()
            .map(|(name, key)| self.key(name, key))
            .collect::<Result<_, _>>()?;
        let tls = raw.tls.as_ref().map(|t| self.face_tls(t)).transpose()?;
        let oauth = raw.oauth.as_ref().map(|o| self.face_oauth(o)).transpose()?;
        Ok(ListenSettings {
            address,
            keys,
            tls,
            oauth,
        })
    }

    fn face_oauth(&self, raw: &RawFaceOAuth) -> Result<FaceOAuth, ConfigError> {
        let url = |t: &Text, key: &str| -> Result<String, ConfigError> {
            let text = self.string(t, &format!("listen.oauth.{key}"))?;
            match reqwest::Url::parse(&text) {
                Ok(u) if u.scheme() == "https" || super::is_loopback(&u) => Ok(text),
                Ok(_) => Err(self.error(
                    t.span().start,
                    format!("`listen.oauth.{key}`: an https URL (plain http only on this machine)"),
                )),
                Err(e) => Err(self.error(t.span().start, format!("`listen.oauth.{key}`: {e}"))),
            }
        };
        let Some(issuer) = &raw.issuer else {
            return Err(self.error(
                0,
                "`[listen.oauth]` needs `issuer`, the authorization server's URL",
            ));
        };
        let mut claims = vec![
            ("email".to_owned(), "email".to_owned()),
            ("name".to_owned(), "name".to_owned()),
        ];
        for (field, claim) in &raw.claims {
            let known = ["email", "name", "team", "roles", "org", "servers"];
            if !known.contains(&field.get_ref().as_str()) {
                return Err(self.error(
                    field.span().start,
                    format!(
                        "`listen.oauth.claims.{}`: map one of {}",
                        field.get_ref(),
                        known.join(", ")
                    ),
                ));
            }
            claims.retain(|(f, _)| f != field.get_ref());
            claims.push((
                field.get_ref().clone(),
                self.string(claim, "listen.oauth.claims")?,
            ));
        }
        Ok(FaceOAuth {
            // As the issuer writes it (`iss` must equal it, trailing slash and all).
            issuer: url(issuer, "issuer")?,
            resource: raw
                .resource
                .as_ref()
                .map(|r| url(r, "resource"))
                .transpose()?,
            audience: raw
                .audience
                .as_ref()
                .map(|a| self.string(a, "listen.oauth.audience"))
                .transpose()?,
            scopes: raw
                .scopes
                .iter()
                .map(|s| self.string(s, "listen.oauth.scopes"))
                .collect::<Result<_, _>>()?,
            claims,
        })
    }

    fn face_tls(&self, raw: &RawFaceTls) -> Result<FaceTls, ConfigError> {
        let path = |t: &Option<Text>, key: &str| {
            t.as_ref()
                .map(|t| {
                    self.string(t, &format!("listen.tls.{key}"))
                        .map(PathBuf::from)
                })
                .transpose()
        };
        let at = |t: &Option<Text>| t.as_ref().map_or(0, |t| t.span().start);
        let (Some(cert), Some(key)) = (path(&raw.cert, "cert")?, path(&raw.key, "key")?) else {
            return Err(self.error(
                at(&raw.cert).max(at(&raw.key)),
                "`[listen.tls]` needs both `cert` and `key` (PEM files)",
            ));
        };
        let client_ca = path(&raw.client_ca, "client_ca")?;
        let require_client_cert = raw.require_client_cert.unwrap_or(false);
        if require_client_cert && client_ca.is_none() {
            return Err(self.error(
                at(&raw.cert),
                "`listen.tls.require_client_cert` needs `client_ca`, the CA that signs the client certificates",
            ));
        }
        Ok(FaceTls {
            cert,
            key,
            client_ca,
            require_client_cert,
        })
    }

    fn key(&self, name: &toml::Spanned<String>, raw: &RawKey) -> Result<ConfigKey, ConfigError> {
        let at = name.span().start;
        let name = name.get_ref().clone();
        let what = |k: &str| format!("listen.keys.{name}.{k}");
        let Some(text) = &raw.key else {
            return Err(self.error(
                at,
                format!(
                    "{} is missing: write `key = \"${{VARIABLE}}\"`",
                    what("key")
                ),
            ));
        };
        let value = text.get_ref();
        let reference = value.starts_with("${")
            && value.ends_with('}')
            && value[2..value.len() - 1]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !reference {
            return Err(self.error(
                text.span().start,
                format!(
                    "{}: a key is never written in the config; put it in an environment variable and write `key = \"${{VARIABLE}}\"`",
                    what("key")
                ),
            ));
        }
        let key = self.string(text, &what("key"))?;
        if key.len() < MIN_KEY {
            return Err(self.error(
                text.span().start,
                format!(
                    "{}: the key in {value} is {} characters; use at least {MIN_KEY} (`mcpgw keys create` makes good ones)",
                    what("key"),
                    key.len()
                ),
            ));
        }
        let strings = |list: &[Text], key: &str| -> Result<Vec<String>, ConfigError> {
            list.iter().map(|t| self.string(t, &what(key))).collect()
        };
        let mut identity = Identity::default();
        for (field, value) in &raw.identity {
            let value = self.string(value, &what("identity"))?;
            identity
                .set(&format!("{}={value}", field.get_ref()))
                .map_err(|e| {
                    self.error(field.span().start, format!("{}: {e}", what("identity")))
                })?;
        }
        let grant = Grant {
            servers: raw
                .servers
                .as_ref()
                .map(|s| strings(s, "servers"))
                .transpose()?,
            tools: strings(&raw.tools, "tools")?,
            rate: raw
                .rate
                .as_ref()
                .map(|t| self.string(t, &what("rate")))
                .transpose()?,
            admin: raw.admin.unwrap_or(false),
            identity,
        };
        grant
            .principal(&name)
            .map_err(|e| self.error(at, format!("listen.keys.{name}: {e}")))?;
        Ok(ConfigKey {
            hash: principal::key_hash(&key),
            name,
            grant,
        })
    }

    pub(super) fn audit(&self, raw: &RawAudit) -> Result<AuditSettings, ConfigError> {
        let defaults = AuditSettings::default();
        let max_bytes = match &raw.max_size {
            Some(t) => self.size(t, "audit.max_size", "10MiB")?.max(4096),
            None => defaults.max_bytes,
        };
        Ok(AuditSettings {
            file: raw
                .file
                .as_ref()
                .map(|f| self.string(f, "audit.file").map(PathBuf::from))
                .transpose()?,
            arguments: raw.arguments.unwrap_or(false),
            max_bytes,
        })
    }
}
