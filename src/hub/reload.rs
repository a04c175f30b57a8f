//! A new config for a running hub: servers added start, removed ones stop, changed ones start
//! again (as a new slot: whatever the old one still says is ignored), untouched ones are left
//! alone, and every session is handed the new view (and so its client `list_changed`).
//! Settings outside `[servers]` are not the hub's to change: they take effect at the next
//! start, except what the faces reload themselves (keys, the audit log).

use std::sync::Arc;

use crate::config::{Config, ServerConfig};

use super::{Hub, Reloaded, ServerState, Slot, ToSession};

impl Hub {
    pub(super) fn reload(&mut self, config: Arc<Config>) -> Reloaded {
        let mut done = Reloaded::default();
        if config.gateway != self.config.gateway {
            tracing::warn!("[gateway] settings changed: they take effect when mcpgw starts again");
        }
        for index in 0..self.slots.len() {
            let slot = &self.slots[index];
            if slot.removed {
                continue;
            }
            let name = slot.config.name.clone();
            match config.servers.iter().find(|s| s.name == name) {
                Some(same) if *same == *slot.config => done.unchanged += 1,
                Some(_) => {
                    // Its subscriptions go with it to the new slot, which makes them again
                    // once it is ready.
                    let carried: Vec<_> = self
                        .subscriptions
                        .keys()
                        .filter(|(s, _)| *s == index)
                        .cloned()
                        .collect();
                    let moved: Vec<_> = carried
                        .into_iter()
                        .filter_map(|key| Some((key.1.clone(), self.subscriptions.remove(&key)?)))
                        .collect();
                    self.retire(index);
                    self.carried.push((name.clone(), moved));
                    done.restarted.push(name);
                }
                None => {
                    self.retire(index);
                    done.removed.push(name);
                }
            }
        }
        for server in &config.servers {
            let running = self
                .slots
                .iter()
                .any(|s| !s.removed && s.config.name == server.name);
            if !running {
                self.add(server);
                let index = self.slots.len() - 1;
                if let Some(at) = self.carried.iter().position(|(n, _)| *n == server.name) {
                    for (uri, sessions) in self.carried.swap_remove(at).1 {
                        self.subscriptions.insert((index, uri), sessions);
                    }
                }
                if !done.restarted.contains(&server.name) {
                    done.added.push(server.name.clone());
                }
            }
        }
        self.carried.clear();
        self.config = config;
        self.start_unknown_lazy_servers();
        self.publish(true);
        tracing::info!(
            "reloaded the config: {} added, {} removed, {} restarted, {} unchanged",
            done.added.len(),
            done.removed.len(),
            done.restarted.len(),
            done.unchanged
        );
        done
    }

    /// Stops server `index` for good; its sessions hear it is down.
    fn retire(&mut self, index: usize) {
        let slot = &mut self.slots[index];
        slot.removed = true;
        slot.handle = None;
        slot.state = ServerState::Disabled;
        slot.info = None;
        slot.fetching = 0;
        slot.cached = false;
        slot.catalog = Arc::default();
        self.retired.extend(slot.task.take());
        self.subscriptions.retain(|(server, _), _| *server != index);
        self.tell_all(|| ToSession::Down {
            server: index,
            news: false,
        });
    }

    /// A new slot for `config`, its actor started (it shakes hands at once when a client
    /// has said hello).
    fn add(&mut self, config: &ServerConfig) {
        let slot = Slot::start(
            self.slots.len(),
            config,
            &self.config.gateway,
            &self.hello,
            &self.events,
            &self.services,
        );
        self.slots.push(slot);
    }
}
