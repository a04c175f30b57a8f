//! Who a session acts for: an API key's name (or a token's subject), what it may reach and
//! who the person behind it is.
//!
//! The HTTP face makes a [`Principal`] when it checks a request's key; a session then shows
//! and routes only what the [`Scope`] allows, and a remote server that asks for it is sent
//! the [`Identity`] as `X-User-*` headers. This room imports nothing else of mcpgw.

use std::time::Duration;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

/// The longest identity value forwarded in a header.
pub const MAX_IDENTITY_VALUE: usize = 256;

#[derive(Debug, Clone, Default)]
pub struct Principal {
    /// The key's name.
    pub name: String,
    pub scope: Scope,
    pub identity: Identity,
    /// May use `/admin/*`.
    pub admin: bool,
    pub rate: Option<Rate>,
}

impl Principal {
    /// Its name and everything it is granted, as one string: sessions made for a principal
    /// serve it only while this stays the same (a key re-made with another scope, a token
    /// with other claims, gets sessions of its own).
    pub fn fingerprint(&self) -> String {
        format!(
            "{}\n{:?}\n{:?}\n{:?}\n{}\n{:?}",
            self.name,
            self.scope.servers(),
            self.scope.tools(),
            self.identity,
            self.admin,
            self.rate
        )
    }
}

/// What a key lets its holder do.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Grant {
    /// The servers it reaches (every one when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<Vec<String>>,
    /// Globs of the exposed tool names it may see and call (every one when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    /// Requests per period (`120/m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub admin: bool,
    #[serde(default, skip_serializing_if = "Identity::is_empty")]
    pub identity: Identity,
}

impl Grant {
    /// The principal its holder is, named `name`; an error names what is wrong with it.
    pub fn principal(&self, name: &str) -> Result<Principal, String> {
        Ok(Principal {
            name: name.to_owned(),
            scope: Scope::new(self.servers.clone(), self.tools.clone())?,
            identity: self.identity.clone(),
            admin: self.admin,
            rate: self.rate.as_deref().map(Rate::parse).transpose()?,
        })
    }
}

/// Who the person (or team, or machine) behind a key is, as servers may be told.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
}

/// One part of an [`Identity`] and the header it travels in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Email,
    Name,
    Team,
    Roles,
    Org,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Email,
        Field::Name,
        Field::Team,
        Field::Roles,
        Field::Org,
    ];

    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Email => "email",
            Field::Name => "name",
            Field::Team => "team",
            Field::Roles => "roles",
            Field::Org => "org",
        }
    }

    pub fn header(self) -> &'static str {
        match self {
            Field::Email => "x-user-email",
            Field::Name => "x-user-name",
            Field::Team => "x-user-team",
            Field::Roles => "x-user-roles",
            Field::Org => "x-organization-id",
        }
    }
}

impl Identity {
    fn slot(&mut self, field: Field) -> &mut Option<String> {
        match field {
            Field::Email => &mut self.email,
            Field::Name => &mut self.name,
            Field::Team => &mut self.team,
            Field::Roles => &mut self.roles,
            Field::Org => &mut self.org,
        }
    }

    pub fn get(&self, field: Field) -> Option<&str> {
        match field {
            Field::Email => self.email.as_deref(),
            Field::Name => self.name.as_deref(),
            Field::Team => self.team.as_deref(),
            Field::Roles => self.roles.as_deref(),
            Field::Org => self.org.as_deref(),
        }
    }

    /// Sets `field=value` (as `--identity` writes it), checked to be fit for a header.
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (field, value) = assignment.split_once('=').ok_or_else(|| {
            format!("`{assignment}`: write it as FIELD=VALUE, e.g. email=ana@example.com")
        })?;
        let field = Field::parse(field.trim()).ok_or_else(|| {
            format!("`{field}` is not an identity field (email, name, team, roles, org)")
        })?;
        let value = value.trim();
        check_value(value).map_err(|why| format!("identity `{}`: {why}", field.as_str()))?;
        *self.slot(field) = Some(value.to_owned());
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        Field::ALL.iter().all(|f| self.get(*f).is_none())
    }

    /// The headers that carry `fields` of it (those it has, and that are fit for a header).
    pub fn headers(&self, fields: &[Field]) -> Vec<(&'static str, &str)> {
        fields
            .iter()
            .filter_map(|f| Some((f.header(), self.get(*f)?)))
            .filter(|(_, v)| check_value(v).is_ok())
            .collect()
    }
}

/// A value fit for a header: printable, no line breaks, at most [`MAX_IDENTITY_VALUE`] bytes.
pub fn check_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("empty".into());
    }
    if value.len() > MAX_IDENTITY_VALUE {
        return Err(format!(
            "{} bytes, over the limit of {MAX_IDENTITY_VALUE}",
            value.len()
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err("control characters (such as line breaks) are not allowed".into());
    }
    Ok(())
}

/// SHA-256 of an API key, hex: all that is ever kept of one.
pub fn key_hash(key: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a principal may reach: some servers (all when `None`), and of their tools those whose
/// exposed names match a glob (all when there is none).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    servers: Option<Vec<String>>,
    tools: Vec<String>,
    globs: Option<GlobSet>,
}

impl Scope {
    pub fn new(servers: Option<Vec<String>>, tools: Vec<String>) -> Result<Scope, String> {
        let globs = if tools.is_empty() {
            None
        } else {
            let mut set = GlobSetBuilder::new();
            for t in &tools {
                set.add(Glob::new(t).map_err(|e| format!("tool glob `{t}`: {e}"))?);
            }
            Some(set.build().map_err(|e| e.to_string())?)
        };
        Ok(Scope {
            servers,
            tools,
            globs,
        })
    }

    /// It limits nothing.
    pub fn is_everything(&self) -> bool {
        self.servers.is_none() && self.globs.is_none()
    }

    pub fn servers(&self) -> Option<&[String]> {
        self.servers.as_deref()
    }

    pub fn tools(&self) -> &[String] {
        &self.tools
    }

    pub fn allows_server(&self, server: &str) -> bool {
        self.servers
            .as_ref()
            .is_none_or(|s| s.iter().any(|n| n == server))
    }

    /// Whether the tool exposed as `exposed`, of `server`, is within it.
    pub fn allows_tool(&self, server: &str, exposed: &str) -> bool {
        self.allows_server(server) && self.globs.as_ref().is_none_or(|g| g.is_match(exposed))
    }

    /// As messages name it: "servers a, b; tools a__*".
    pub fn describe(&self) -> String {
        let mut parts = vec![];
        if let Some(servers) = &self.servers {
            parts.push(format!("servers {}", servers.join(", ")));
        }
        if !self.tools.is_empty() {
            parts.push(format!("tools {}", self.tools.join(", ")));
        }
        if parts.is_empty() {
            "everything".into()
        } else {
            parts.join("; ")
        }
    }
}

/// A rate: so many requests per period (`120/m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    /// `N/s`, `N/m`, `N/h` (or `N/min`, `N/second`…).
    pub fn parse(text: &str) -> Result<Rate, String> {
        let bad = || format!("`{text}`: write a rate like 120/m (per s, m or h)");
        let (count, unit) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(format!(
                "`{text}`: a rate of 0 lets nothing through (revoke the key instead)"
            ));
        }
        Ok(Rate { count, per })
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "m",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_limit_servers_and_tools_by_exposed_name() {
        let all = Scope::default();
        assert!(all.is_everything() && all.allows_tool("a", "a__x"));
        let s = Scope::new(
            Some(vec!["a".into(), "b".into()]),
            vec!["a__read_*".into(), "b__*".into()],
        )
        .unwrap();
        assert!(s.allows_server("a") && !s.allows_server("c"));
        assert!(s.allows_tool("a", "a__read_file"));
        assert!(!s.allows_tool("a", "a__write_file"));
        assert!(s.allows_tool("b", "b__anything"));
        assert!(
            !s.allows_tool("c", "b__anything"),
            "the server decides first"
        );
        assert_eq!(s.describe(), "servers a, b; tools a__read_*, b__*");
        assert!(Scope::new(None, vec!["[".into()]).is_err());
    }

    #[test]
    fn a_principal_is_known_by_its_grant_too() {
        let a = Principal {
            name: "ci".into(),
            ..Principal::default()
        };
        let narrower = Principal {
            scope: Scope::new(Some(vec!["x".into()]), vec![]).unwrap(),
            ..a.clone()
        };
        assert_eq!(a.fingerprint(), a.clone().fingerprint());
        assert_ne!(
            a.fingerprint(),
            narrower.fingerprint(),
            "re-made with another scope"
        );
    }

    #[test]
    fn identity_values_must_fit_a_header() {
        let mut id = Identity::default();
        id.set("email=ana@example.com").unwrap();
        id.set("roles = admin,dev").unwrap();
        assert_eq!(id.email.as_deref(), Some("ana@example.com"));
        assert_eq!(id.roles.as_deref(), Some("admin,dev"));
        assert!(
            id.set("team=a\r\nX-Evil: 1")
                .unwrap_err()
                .contains("control")
        );
        assert!(
            id.set("shoe=42")
                .unwrap_err()
                .contains("not an identity field")
        );
        assert!(id.set("name=").is_err());
        assert!(id.set(&format!("name={}", "x".repeat(300))).is_err());
        assert_eq!(
            id.headers(&[Field::Email, Field::Team, Field::Roles]),
            [
                ("x-user-email", "ana@example.com"),
                ("x-user-roles", "admin,dev")
            ]
        );
    }

    #[test]
    fn rates_read_as_written() {
        let r = Rate::parse("120/m").unwrap();
        assert_eq!((r.count, r.per), (120, Duration::from_secs(60)));
        assert_eq!(r.to_string(), "120/m");
        assert_eq!(Rate::parse("5/s").unwrap().per, Duration::from_secs(1));
        assert!(Rate::parse("0/m").is_err());
        assert!(Rate::parse("12").is_err());
        assert!(Rate::parse("12/week").is_err());
    }
}
