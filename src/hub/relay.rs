//! What servers send that is meant for clients: their notifications, and their requests
//! (sampling, elicitation, roots), each to the session it concerns.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;

use serde_json::Value;
use serde_json::value::RawValue;

use super::{Hub, Kind, Member, SessionId, Slot, ToSession};
use crate::protocol::{self, ErrorObject, Notification, Request, code};

/// The capability a client must have declared to be sent a server's request.
pub fn capability_for(method: &str) -> Option<&'static str> {
    match method {
        "sampling/createMessage" => Some("sampling"),
        "elicitation/create" => Some("elicitation"),
        "roots/list" => Some("roots"),
        _ => None,
    }
}

/// Whether `capabilities` (what a client declared in `initialize`) has `capability`.
pub fn declares(capabilities: Option<&RawValue>, capability: &str) -> bool {
    capabilities.is_some_and(|c| {
        serde_json::from_str::<HashMap<String, serde::de::IgnoredAny>>(c.get())
            .is_ok_and(|m| m.contains_key(capability))
    })
}

impl Hub {
    /// Sends `message` to a session; a server's request that cannot reach it (the session
    /// just ended) is answered with an error, so the server never waits for it.
    pub(super) fn send(&self, session: SessionId, message: ToSession) {
        let undelivered = match self.members.get(&session) {
            Some(member) => member.events.send(message).err().map(|e| e.0),
            None => Some(message),
        };
        if let Some(ToSession::Request { server, request }) = undelivered {
            refuse(
                &self.slots[server],
                request,
                "the client that caused it went away",
            );
        }
    }

    pub(super) fn tell_all(&self, message: impl Fn() -> ToSession) {
        for member in self.members.values() {
            let _ = member.events.send(message());
        }
    }

    /// Sends a notification to `session`, or logs that nobody gets it.
    fn notify_one(
        &self,
        session: Option<SessionId>,
        server: usize,
        notification: Notification,
        what: &str,
    ) {
        match session {
            Some(session) => self.send(
                session,
                ToSession::Notification {
                    server,
                    notification,
                },
            ),
            None => tracing::debug!(server = %self.slots[server].config.name, "dropped {what}"),
        }
    }

    /// The sessions among `origins` that are still here.
    fn live(&self, origins: &[u64]) -> BTreeSet<SessionId> {
        origins
            .iter()
            .copied()
            .filter(|s| self.members.contains_key(s))
            .collect()
    }

    /// Sends a notification to every session (the last one gets the original).
    pub(super) fn broadcast(&self, server: usize, notification: Notification) {
        let mut members = self.members.values().peekable();
        while let Some(member) = members.next() {
            let notification = if members.peek().is_some() {
                notification.clone()
            } else {
                return drop(member.events.send(ToSession::Notification {
                    server,
                    notification,
                }));
            };
            let _ = member.events.send(ToSession::Notification {
                server,
                notification,
            });
        }
    }

    pub(super) fn on_upstream_notification(
        &mut self,
        server: usize,
        n: Notification,
        origins: &[u64],
    ) {
        match n.method.as_str() {
            "notifications/tools/list_changed" => return self.fetch(server, Kind::Tools),
            "notifications/prompts/list_changed" => return self.fetch(server, Kind::Prompts),
            "notifications/resources/list_changed" => {
                self.fetch(server, Kind::Resources);
                return self.fetch(server, Kind::Templates);
            }
            "notifications/progress" => {
                // Our progress tokens name their session; progress on anything else (a request
                // of a session that is gone, a token the server made up) is nobody's.
                let session =
                    progress_session(n.params.as_deref()).filter(|s| self.members.contains_key(s));
                return self.notify_one(session, server, n, "progress for no request in flight");
            }
            "notifications/resources/updated" => {
                let uri = n
                    .params
                    .as_deref()
                    .and_then(|p| protocol::param_str(p, "uri"))
                    .unwrap_or_default();
                if let Some(sessions) = self.subscriptions.get(&(server, uri)) {
                    for &session in sessions {
                        self.send(
                            session,
                            ToSession::Notification {
                                server,
                                notification: n.clone(),
                            },
                        );
                    }
                    return;
                }
            }
            // A task's status, in either era's notification.
            "notifications/tasks/status" | "notifications/tasks" => {
                // To the session that created the task. One not known yet (its status came
                // before the result that names it) goes to the session that caused it, when
                // that is certain: never to every session.
                let task = n
                    .params
                    .as_deref()
                    .and_then(|p| protocol::param_str(p, "taskId"));
                let known = task.and_then(|t| self.tasks.get(&t).copied());
                let causes = self.live(origins);
                let only = (causes.len() == 1).then(|| *causes.first().expect("one"));
                return self.notify_one(
                    known.or(only),
                    server,
                    n,
                    "a task status nobody can be told",
                );
            }
            _ => {}
        }
        self.broadcast(server, n);
    }

    /// Finds the session a server's request is for (see the module docs), or refuses it.
    pub(super) fn on_upstream_request(&mut self, server: usize, request: Request, origins: &[u64]) {
        if self.slots[server].handle.is_none() {
            return;
        }
        let related = related_task(request.params.as_deref())
            .and_then(|t| self.tasks.get(&t).copied())
            .filter(|s| self.members.contains_key(s));
        let causes = self.live(origins);
        let needs = capability_for(&request.method);
        let name = self.slots[server].config.name.clone();
        // Among several sessions, only those that may see the server, and all of one
        // principal: one key's client is never asked about another's call.
        let candidates: Vec<(SessionId, &Member)> = self
            .members
            .iter()
            .filter(|(id, _)| causes.is_empty() || causes.contains(id))
            .filter(|(_, m)| {
                m.principal
                    .as_ref()
                    .is_none_or(|p| p.scope.allows_server(&name))
            })
            .filter(|(_, m)| m.capabilities.is_some())
            .filter(|(_, m)| needs.is_none_or(|c| m.declared(c)))
            .map(|(id, m)| (*id, m))
            .collect();
        let whose: std::collections::HashSet<Option<String>> = candidates
            .iter()
            .map(|(_, m)| m.principal.as_ref().map(|p| p.fingerprint()))
            .collect();
        let chosen = related
            .or_else(|| (causes.len() == 1).then(|| *causes.first().expect("one")))
            .or_else(|| {
                if whose.len() > 1 {
                    return None;
                }
                candidates
                    .iter()
                    .max_by_key(|(_, m)| m.activity.load(Ordering::Relaxed))
                    .map(|(id, _)| *id)
            });
        match chosen {
            Some(session) => self.send(session, ToSession::Request { server, request }),
            None => {
                let why = match needs {
                    _ if !self.members.values().any(|m| m.capabilities.is_some()) => {
                        "no client has connected to mcpgw yet".to_owned()
                    }
                    _ if whose.len() > 1 => {
                        "clients of several keys have calls at this server, and the request names none of them".to_owned()
                    }
                    Some(c) => format!("no client connected to mcpgw declared `{c}`"),
                    None => "no client connected to mcpgw can take it".to_owned(),
                };
                refuse(&self.slots[server], request, &why);
            }
        }
    }
}

/// Answers a server's request for a client with an error: no client can take it.
pub(super) fn refuse(slot: &Slot, request: Request, why: &str) {
    if let Some(handle) = &slot.handle {
        let error = ErrorObject::new(
            code::METHOD_NOT_FOUND,
            format!("mcpgw: `{}` cannot be answered: {why}", request.method),
        );
        handle.respond(request.id, Err(error));
    }
}

/// The session named by one of our progress tokens (`"<session>.<n>"`).
pub fn progress_session(params: Option<&RawValue>) -> Option<SessionId> {
    let token = protocol::progress_token(params)?;
    let token: String = serde_json::from_str(&token).ok()?;
    token.split_once('.')?.0.parse().ok()
}

/// The task a server's request is about (`_meta["io.modelcontextprotocol/related-task"]`,
/// handshake era).
pub fn related_task(params: Option<&RawValue>) -> Option<String> {
    let v: Value = serde_json::from_str(params?.get()).ok()?;
    v.get("_meta")?
        .get("io.modelcontextprotocol/related-task")?
        .get("taskId")?
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn our_progress_tokens_name_their_session() {
        let params = protocol::raw(&json!({ "progressToken": "12.3", "progress": 1 }));
        assert_eq!(progress_session(Some(&params)), Some(12));
        let theirs = protocol::raw(&json!({ "progressToken": 5, "progress": 1 }));
        assert_eq!(progress_session(Some(&theirs)), None);
        let related = protocol::raw(
            &json!({ "_meta": { "io.modelcontextprotocol/related-task": { "taskId": "t1" } } }),
        );
        assert_eq!(related_task(Some(&related)).as_deref(), Some("t1"));
    }
}
