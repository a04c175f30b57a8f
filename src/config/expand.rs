//! `${VAR}` substitution in config strings.
//!
//! `${VAR}` takes the variable from the environment and fails, naming it, when it is unset;
//! `${VAR:-fallback}` uses the fallback instead; `$$` is a literal `$`. A `$` followed by
//! anything else is kept as written, so shell snippets in args survive.

/// Replaces every `${VAR}` in `input` using `lookup`; the error names the missing variable.
pub fn expand(input: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| format!("unclosed `${{` in {input:?}"))?;
            let expr = &body[..end];
            let (name, fallback) = match expr.split_once(":-") {
                Some((n, f)) => (n, Some(f)),
                None => (expr, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("`${{{expr}}}` is not a valid variable reference"));
            }
            match (lookup(name), fallback) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(f)) => out.push_str(f),
                (None, None) => {
                    return Err(format!("environment variable `{name}` is not set"));
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::expand;

    fn env(name: &str) -> Option<String> {
        (name == "HOME").then(|| "/home/u".to_owned())
    }

    #[test]
    fn substitutes_and_reports_missing() {
        assert_eq!(expand("${HOME}/x", env).unwrap(), "/home/u/x");
        assert_eq!(expand("$$HOME $1 ${NOPE:-d}", env).unwrap(), "$HOME $1 d");
        assert_eq!(
            expand("a ${NOPE} b", env).unwrap_err(),
            "environment variable `NOPE` is not set"
        );
        assert!(expand("${HOME", env).is_err());
        assert!(expand("${A B}", env).is_err());
    }
}
