//! The one place where upstream tool and prompt names become exposed names, and back.
//!
//! The exposed name is `<server><separator><name>` when that fits `^[a-zA-Z0-9_-]{1,max}$`.
//! Characters outside that set become `_`. A name that is too long, or that collides with one
//! already given, is cut and ends in `_` plus a hash of the server and the original name. So the
//! same tools always get the same names (across restarts too), two tools never share one, and
//! [`NameTable::resolve`] maps every exposed name back to exactly one server and tool.
//!
//! A server configured with `prefix = false` has its names as they are (sanitized, and cut to
//! fit); one that another name already took falls back to the prefixed form.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// Where an exposed name leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub server: usize,
    pub name: String,
}

#[derive(Debug, Default, Clone)]
pub struct NameTable {
    exposed: HashMap<String, Target>,
}

impl NameTable {
    /// Names every `(server index, server name, original name)` entry; returns the exposed name
    /// of each entry, in the order given.
    pub fn build<'a>(
        entries: impl IntoIterator<Item = (usize, &'a str, &'a str)>,
        separator: &str,
        max_len: usize,
    ) -> (NameTable, Vec<String>) {
        Self::build_with(entries, separator, max_len, |_| true)
    }

    /// [`NameTable::build`], where `prefixed(server)` is false for servers whose names go
    /// without their prefix when no other name has them.
    pub fn build_with<'a>(
        entries: impl IntoIterator<Item = (usize, &'a str, &'a str)>,
        separator: &str,
        max_len: usize,
        prefixed: impl Fn(usize) -> bool,
    ) -> (NameTable, Vec<String>) {
        let entries: Vec<_> = entries.into_iter().collect();
        // Plain names first, in a fixed order, so that which entry keeps the plain form of a
        // contested name does not depend on the order upstreams happened to answer in.
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|&i| (entries[i].1, entries[i].2));
        let mut table = NameTable::default();
        let mut names = vec![String::new(); entries.len()];
        for i in order {
            let (server, server_name, original) = entries[i];
            let own = sanitize(original);
            if !prefixed(server)
                && !own.is_empty()
                && own.len() <= max_len
                && !table.exposed.contains_key(&own)
            {
                table.exposed.insert(
                    own.clone(),
                    Target {
                        server,
                        name: original.to_owned(),
                    },
                );
                names[i] = own;
                continue;
            }
            let plain = sanitize(&format!("{server_name}{separator}{original}"));
            let mut name = if plain.len() <= max_len {
                plain.clone()
            } else {
                hashed(&plain, server_name, original, max_len, 8)
            };
            let mut digits = 8;
            while table.exposed.contains_key(&name) {
                name = hashed(&plain, server_name, original, max_len, digits);
                digits += 4;
            }
            table.exposed.insert(
                name.clone(),
                Target {
                    server,
                    name: original.to_owned(),
                },
            );
            names[i] = name;
        }
        (table, names)
    }

    /// Every name exactly as its server wrote it: for `mcpgw proxy`, which has one server.
    pub fn identity<'a>(
        entries: impl IntoIterator<Item = (usize, &'a str, &'a str)>,
    ) -> (NameTable, Vec<String>) {
        let mut table = NameTable::default();
        let names = entries
            .into_iter()
            .map(|(server, _, original)| {
                table.exposed.insert(
                    original.to_owned(),
                    Target {
                        server,
                        name: original.to_owned(),
                    },
                );
                original.to_owned()
            })
            .collect();
        (table, names)
    }

    /// Every exposed name and where it leads.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Target)> {
        self.exposed
            .iter()
            .map(|(name, target)| (name.as_str(), target))
    }

    pub fn resolve(&self, exposed: &str) -> Option<&Target> {
        self.exposed.get(exposed)
    }

    /// Keeps the names `keep(exposed, target)` allows.
    pub fn retain(&mut self, keep: impl Fn(&str, &Target) -> bool) {
        self.exposed.retain(|name, target| keep(name, target));
    }

    pub fn len(&self) -> usize {
        self.exposed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.exposed.is_empty()
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `plain` cut to fit, then `_` and `digits` hex digits of a hash of the original identity.
fn hashed(plain: &str, server: &str, original: &str, max_len: usize, digits: usize) -> String {
    let mut hasher = Sha256::new();
    hasher.update(server.as_bytes());
    hasher.update([0]);
    hasher.update(original.as_bytes());
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let digits = digits.min(hex.len()).min(max_len - 2);
    let keep = plain.len().min(max_len - digits - 1);
    format!("{}_{}", &plain[..keep], &hex[..digits])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unprefixed_servers_keep_their_names_unless_taken() {
        // `b` and `c` go without prefix; `a` with. Both `b` and `c` have `echo`: the first in
        // order keeps it, the other is prefixed.
        let entries = [
            (0, "a", "echo"),
            (1, "b", "echo"),
            (2, "c", "echo"),
            (2, "c", "só"),
        ];
        let (t, names) = NameTable::build_with(entries, "__", 52, |s| s == 0);
        assert_eq!(names, ["a__echo", "echo", "c__echo", "s_"]);
        assert_eq!(t.resolve("echo").unwrap().server, 1);
        assert_eq!(t.resolve("c__echo").unwrap().server, 2);
        assert_eq!(t.resolve("s_").unwrap().name, "só");
    }

    fn valid(name: &str, max: usize) -> bool {
        !name.is_empty()
            && name.len() <= max
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }

    #[test]
    fn plain_names_are_prefixed() {
        let (t, names) = NameTable::build([(0, "a", "echo"), (1, "b", "echo")], "__", 52);
        assert_eq!(names, ["a__echo", "b__echo"]);
        assert_eq!(
            t.resolve("b__echo"),
            Some(&Target {
                server: 1,
                name: "echo".into()
            })
        );
        assert_eq!(t.resolve("echo"), None);
    }

    #[test]
    fn long_and_odd_names_are_shortened_stably() {
        let long = "x".repeat(80);
        let (t, names) = NameTable::build(
            [(0, "srv", long.as_str()), (0, "srv", "get.file/v2")],
            "__",
            52,
        );
        assert_eq!(names[0].len(), 52);
        assert!(names[0].starts_with("srv__xxx"));
        assert_eq!(names[1], "srv__get_file_v2");
        assert_eq!(t.resolve(&names[0]).unwrap().name, long);
        let (_, again) = NameTable::build(
            [(0, "srv", "get.file/v2"), (0, "srv", long.as_str())],
            "__",
            52,
        );
        assert_eq!(
            again,
            [names[1].clone(), names[0].clone()],
            "stable across order"
        );
    }

    #[test]
    fn collisions_are_disambiguated_not_dropped() {
        // "a_" + "__" + "b" and "a" + "__" + "_b" are both "a___b"; "x.y" and "x_y" sanitize alike.
        let (t, names) = NameTable::build(
            [
                (0, "a_", "b"),
                (1, "a", "_b"),
                (1, "a", "x.y"),
                (1, "a", "x_y"),
            ],
            "__",
            52,
        );
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 4, "{names:?}");
        assert_eq!(t.len(), 4);
        for (name, (server, original)) in
            names
                .iter()
                .zip([(0, "b"), (1, "_b"), (1, "x.y"), (1, "x_y")])
        {
            assert!(valid(name, 52), "{name}");
            assert_eq!(
                t.resolve(name),
                Some(&Target {
                    server,
                    name: original.into()
                })
            );
        }
    }

    #[test]
    fn every_name_maps_back_to_exactly_one_tool() {
        // A cheap property test over many near-identical names at a tight length.
        let originals: Vec<String> = (0..400)
            .map(|i| format!("{}{}", "tool.name-".repeat(i % 7), i % 150))
            .collect();
        let entries: Vec<_> = originals
            .iter()
            .enumerate()
            .map(|(i, o)| (i % 3, ["s1", "s2", "s_1"][i % 3], o.as_str()))
            .collect();
        let mut seen = std::collections::HashSet::new();
        let deduped: Vec<_> = entries
            .into_iter()
            .filter(|e| seen.insert((e.0, e.2)))
            .collect();
        let (t, names) = NameTable::build(deduped.clone(), "_", 20);
        assert_eq!(t.len(), deduped.len());
        for (name, (server, _, original)) in names.iter().zip(&deduped) {
            assert!(valid(name, 20), "{name}");
            assert_eq!(
                t.resolve(name),
                Some(&Target {
                    server: *server,
                    name: original.to_string()
                })
            );
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever the servers and tools are called, every exposed name is valid, unique, and
        /// maps back to exactly its server and tool.
        #[test]
        fn every_exposed_name_maps_back_to_exactly_one_tool(
            tools in proptest::collection::vec((0usize..4, "[a-zA-Z0-9_./ -]{1,80}"), 1..60),
            max in 16usize..70,
        ) {
            let servers = ["s", "s_", "long-server-name-x", "s__a"];
            let mut seen = std::collections::HashSet::new();
            let entries: Vec<(usize, &str, &str)> = tools
                .iter()
                .filter(|(s, t)| seen.insert((*s, t.clone())))
                .map(|(s, t)| (*s, servers[*s], t.as_str()))
                .collect();
            let (table, names) = NameTable::build(entries.clone(), "__", max);
            prop_assert_eq!(table.len(), entries.len());
            for (name, (server, _, original)) in names.iter().zip(&entries) {
                prop_assert!(!name.is_empty() && name.len() <= max, "{}", name);
                prop_assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'), "{}", name);
                prop_assert_eq!(table.resolve(name), Some(&Target { server: *server, name: original.to_string() }));
            }
        }
    }
}
