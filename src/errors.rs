//! Errors shown to a person: one line, each cause once.
//!
//! Many errors quote their source in their own message (reqwest's, rmcp's, ours with
//! `{source}`) and also return it from `source()`, so printing the chain naively says the
//! same thing twice ("cannot read config x: No such file (os error 2): No such file (os error
//! 2)"). Every error that reaches a person goes through [`chain`].

/// An error and its causes on one line; a cause its error already quotes is left out.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read config x: {source}")]
    struct Quotes {
        #[source]
        source: std::io::Error,
    }

    // Regression (a missing --config file printed its cause twice).
    #[test]
    fn a_cause_already_quoted_is_said_once() {
        let e = Quotes {
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        };
        assert_eq!(chain(&e), "cannot read config x: no such file");
        let wrapped = anyhow::Error::new(e).context("loading");
        assert_eq!(
            chain(wrapped.as_ref()),
            "loading: cannot read config x: no such file"
        );
    }
}
