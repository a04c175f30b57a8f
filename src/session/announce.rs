//! Which lists the client is told have changed.
//!
//! Only lists the client has fetched since it was last told are worth a `list_changed` (a
//! list nobody has seen cannot be stale), and nothing is said before the client's
//! `notifications/initialized`: changes until then are said right after it. Resources and
//! templates share one notification.

use std::collections::{BTreeSet, HashSet};

use crate::hub::Kind;

#[derive(Default)]
pub struct Announcer {
    listed: HashSet<Kind>,
    unannounced: HashSet<Kind>,
    ready: bool,
}

impl Announcer {
    /// The client fetched (a page of) this list.
    pub fn listed(&mut self, kind: Kind) {
        self.listed.insert(kind);
    }

    /// These lists changed: the notifications to send now, each once.
    pub fn changed(&mut self, kinds: impl IntoIterator<Item = Kind>) -> Vec<&'static str> {
        let seen: Vec<Kind> = kinds
            .into_iter()
            .filter(|k| self.listed.contains(k))
            .collect();
        if self.ready {
            self.methods(seen)
        } else {
            self.unannounced.extend(seen);
            vec![]
        }
    }

    /// The client is ready to hear notifications: what changed before.
    pub fn ready(&mut self) -> Vec<&'static str> {
        self.ready = true;
        let kinds = std::mem::take(&mut self.unannounced);
        self.methods(kinds)
    }

    fn methods(&mut self, kinds: impl IntoIterator<Item = Kind>) -> Vec<&'static str> {
        let methods: BTreeSet<&'static str> = kinds.into_iter().map(Kind::list_changed).collect();
        self.listed.retain(|k| !methods.contains(k.list_changed()));
        methods.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lists_the_client_has_seen_are_announced_once() {
        let mut a = Announcer::default();
        a.ready();
        assert!(a.changed([Kind::Tools]).is_empty(), "never listed");
        a.listed(Kind::Tools);
        assert_eq!(
            a.changed([Kind::Tools, Kind::Tools]),
            ["notifications/tools/list_changed"]
        );
        assert!(
            a.changed([Kind::Tools]).is_empty(),
            "not listed again since"
        );
    }

    #[test]
    fn resources_and_templates_share_one_notification() {
        let mut a = Announcer::default();
        a.ready();
        a.listed(Kind::Resources);
        a.listed(Kind::Templates);
        assert_eq!(
            a.changed([Kind::Templates, Kind::Resources]),
            ["notifications/resources/list_changed"]
        );
        a.listed(Kind::Templates);
        assert_eq!(
            a.changed([Kind::Resources]),
            Vec::<&str>::new(),
            "listing templates does not make the resources seen"
        );
        assert_eq!(
            a.changed([Kind::Templates]),
            ["notifications/resources/list_changed"]
        );
    }

    #[test]
    fn changes_before_the_client_is_ready_are_said_after() {
        let mut a = Announcer::default();
        a.listed(Kind::Prompts);
        a.listed(Kind::Tools);
        assert!(a.changed([Kind::Prompts, Kind::Tools]).is_empty());
        assert_eq!(
            a.ready(),
            [
                "notifications/prompts/list_changed",
                "notifications/tools/list_changed"
            ]
        );
        assert!(a.ready().is_empty());
    }
}
