//! A client of the handshake era and a server of 2026-07-28 that needs input: the server
//! answers `tools/call`, `prompts/get` or `resources/read` with `resultType:
//! "input_required"` and its `inputRequests` (elicitation, sampling, roots); such a client
//! knows only requests from the server. So each input request goes to the client as a request
//! of its own, and when every answer is in, the original request goes to the server again
//! with `inputResponses` and the server's `requestState` exactly as received — for as many
//! rounds as the server asks, up to [`MAX_ROUNDS`].
//!
//! An input request the client cannot take (it did not declare the capability) ends the
//! round: an elicitation is declined, as a person would; sampling or roots fail the request
//! with the missing capability named.
//!
//! The client has the server's request timeout to answer a round; then, or when the client
//! cancels its request or fails one of the asks, the request ends and the asks still
//! outstanding are withdrawn (`notifications/cancelled` to the client).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::inflight::Answer;
use crate::protocol::{ErrorObject, Outcome, Request, RequestId, code, raw};

/// Rounds of input one request may take before mcpgw gives up on the server.
pub const MAX_ROUNDS: u32 = 10;

/// The methods whose results may ask for input.
pub fn may_ask(method: &str) -> bool {
    matches!(method, "tools/call" | "prompts/get" | "resources/read")
}

/// What is needed to send a request again with the client's input.
#[derive(Debug, Clone)]
pub struct Retry {
    pub method: String,
    /// The params as the session forwarded them the first time.
    pub params: Option<Box<RawValue>>,
    /// Rounds of input so far.
    pub rounds: u32,
    /// Whether the request declares the tasks extension for the client ([`super::tasks`]).
    pub tasks: super::tasks::Mode,
}

/// What the session does next.
#[derive(Debug)]
pub enum Step {
    /// Send these requests to the client.
    Ask(Vec<Request>),
    /// Every answer is in: send the request again.
    Retry {
        id: RequestId,
        server: usize,
        answer: Answer,
        retry: Retry,
    },
    /// Give up on the request, withdrawing the asks the client has not answered.
    Fail {
        id: RequestId,
        answer: Answer,
        error: ErrorObject,
        withdraw: Vec<RequestId>,
    },
}

struct Open {
    id: RequestId,
    server: usize,
    answer: Answer,
    retry: Retry,
    state: Option<Box<RawValue>>,
    waiting: usize,
    responses: Map<String, Value>,
    /// When the client's answers are due.
    deadline: Instant,
    timeout: Duration,
}

#[derive(Default)]
pub struct Bridges {
    open: HashMap<u64, Open>,
    /// Our id of a request to the client → its bridge and input key.
    asks: HashMap<RequestId, (u64, String)>,
    next: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InputRequired {
    result_type: String,
    #[serde(default)]
    input_requests: BTreeMap<String, InputRequest>,
    #[serde(default)]
    request_state: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct InputRequest {
    method: String,
    #[serde(default)]
    params: Option<Box<RawValue>>,
}

/// Whether `result` asks for input.
pub fn asks_for_input(result: &RawValue) -> bool {
    #[derive(Deserialize)]
    struct Typed<'a> {
        #[serde(borrow, rename = "resultType")]
        result_type: Option<&'a str>,
    }
    serde_json::from_str::<Typed>(result.get())
        .is_ok_and(|t| t.result_type == Some("input_required"))
}

impl Bridges {
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Whether `ours` is the id of a request of ours to the client.
    pub fn asked(&self, ours: &RequestId) -> bool {
        self.asks.contains_key(ours)
    }

    /// A server asked for input to answer request `id`; the client has `timeout` to give
    /// it. `declared` tells whether the client declared a capability (`elicitation`,
    /// `sampling`, `roots`).
    #[allow(clippy::too_many_arguments)]
    pub fn input_required(
        &mut self,
        id: RequestId,
        server: usize,
        answer: Answer,
        mut retry: Retry,
        result: &RawValue,
        timeout: Duration,
        declared: impl Fn(&str) -> bool,
    ) -> Step {
        let fail = |id, message: String| Step::Fail {
            id,
            answer,
            error: ErrorObject::new(code::INTERNAL_ERROR, message),
            withdraw: vec![],
        };
        let asked: InputRequired = match serde_json::from_str(result.get()) {
            Ok(a) => a,
            Err(e) => {
                return fail(
                    id,
                    format!("the server asked for input in a malformed way: {e}"),
                );
            }
        };
        debug_assert_eq!(asked.result_type, "input_required");
        retry.rounds += 1;
        if retry.rounds > MAX_ROUNDS {
            return fail(
                id,
                format!("the server asked for input {MAX_ROUNDS} times without answering"),
            );
        }
        if asked.input_requests.is_empty() && asked.request_state.is_none() {
            return fail(id, "the server asked for input but named none".into());
        }
        let bridge = self.next;
        self.next += 1;
        let mut open = Open {
            id,
            server,
            answer,
            retry,
            state: asked.request_state,
            waiting: 0,
            responses: Map::new(),
            deadline: Instant::now() + timeout,
            timeout,
        };
        let mut requests = vec![];
        let mut asks = vec![];
        for (key, input) in asked.input_requests {
            let capability = match input.method.as_str() {
                "elicitation/create" => "elicitation",
                "sampling/createMessage" => "sampling",
                "roots/list" => "roots",
                other => {
                    return fail(
                        open.id,
                        format!("the server asked for `{other}`, which is not an input request"),
                    );
                }
            };
            if !declared(capability) {
                if capability == "elicitation" {
                    // As a person who was not asked would: no.
                    open.responses.insert(key, json!({ "action": "decline" }));
                    continue;
                }
                return Step::Fail {
                    id: open.id,
                    answer,
                    error: super::stateless::missing_capability(
                        &format!(
                            "the server needs `{}` from the client, which did not declare `{capability}`",
                            input.method
                        ),
                        json!({ capability: {} }),
                    ),
                    withdraw: vec![],
                };
            }
            let ours = RequestId::String(format!("mcpgw-input-{bridge}-{}", requests.len()).into());
            asks.push((ours.clone(), key));
            requests.push(Request {
                id: ours,
                method: input.method,
                params: input.params,
            });
        }
        open.waiting = requests.len();
        if requests.is_empty() {
            return Self::retry(open);
        }
        // Only now, with every input request valid: a failed one leaves nothing behind.
        for (ours, key) in asks {
            self.asks.insert(ours, (bridge, key));
        }
        self.open.insert(bridge, open);
        Step::Ask(requests)
    }

    /// The client answered request `ours`; `None` when it was not one of ours.
    pub fn answered(&mut self, ours: &RequestId, outcome: Outcome) -> Option<Option<Step>> {
        let (bridge, key) = self.asks.remove(ours)?;
        let Some(open) = self.open.get_mut(&bridge) else {
            return Some(None); // the request was cancelled meanwhile
        };
        match outcome {
            Ok(result) => {
                let value = serde_json::from_str(result.get()).unwrap_or(Value::Null);
                open.responses.insert(key, value);
                open.waiting -= 1;
                if open.waiting > 0 {
                    return Some(None);
                }
                let open = self.open.remove(&bridge).expect("open");
                Some(Some(Self::retry(open)))
            }
            Err(e) => {
                let (open, withdraw) = self.forget(bridge).expect("open");
                Some(Some(Step::Fail {
                    id: open.id,
                    answer: open.answer,
                    error: ErrorObject::new(
                        code::INTERNAL_ERROR,
                        format!("the client could not give the input the server asked for: {e}"),
                    ),
                    withdraw,
                }))
            }
        }
    }

    /// The client cancelled its request `id`: its bridge is forgotten (late answers to what
    /// was asked of the client are then ignored); the asks to withdraw, or `None` when no
    /// bridge was open for it.
    pub fn cancel(&mut self, id: &RequestId) -> Option<Vec<RequestId>> {
        let found = self.open.iter().find(|(_, o)| &o.id == id).map(|(b, _)| *b);
        found
            .and_then(|b| self.forget(b))
            .map(|(_, withdraw)| withdraw)
    }

    /// The bridges whose client did not answer in time, each failed.
    pub fn expired(&mut self, now: Instant) -> Vec<Step> {
        let late: Vec<u64> = self
            .open
            .iter()
            .filter(|(_, o)| o.deadline <= now)
            .map(|(b, _)| *b)
            .collect();
        late.into_iter()
            .filter_map(|b| self.forget(b))
            .map(|(open, withdraw)| Step::Fail {
                id: open.id,
                answer: open.answer,
                error: ErrorObject::new(
                    code::REQUEST_TIMEOUT,
                    format!(
                        "the client did not give the input the server asked for within {}",
                        humantime::format_duration(open.timeout)
                    ),
                ),
                withdraw,
            })
            .collect()
    }

    /// Closes a bridge: it and the asks the client still owes it (sorted, for tests).
    fn forget(&mut self, bridge: u64) -> Option<(Open, Vec<RequestId>)> {
        let mut withdraw: Vec<RequestId> = self
            .asks
            .iter()
            .filter(|(_, (b, _))| *b == bridge)
            .map(|(ours, _)| ours.clone())
            .collect();
        withdraw.sort_by_key(ToString::to_string);
        self.asks.retain(|_, (b, _)| *b != bridge);
        Some((self.open.remove(&bridge)?, withdraw))
    }

    /// The request again, with every answer and the server's state as it sent it.
    fn retry(open: Open) -> Step {
        let mut params: BTreeMap<String, Box<RawValue>> = open
            .retry
            .params
            .as_deref()
            .and_then(|p| serde_json::from_str(p.get()).ok())
            .unwrap_or_default();
        params.insert("inputResponses".into(), raw(&open.responses));
        match open.state {
            Some(state) => params.insert("requestState".into(), state),
            None => params.remove("requestState"),
        };
        Step::Retry {
            id: open.id,
            server: open.server,
            answer: open.answer,
            retry: Retry {
                params: Some(raw(&params)),
                ..open.retry
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(raw: &RawValue) -> Value {
        serde_json::from_str(raw.get()).unwrap()
    }

    const MINUTE: Duration = Duration::from_secs(60);

    fn first() -> Retry {
        Retry {
            method: "tools/call".into(),
            params: Some(raw(&json!({ "name": "greet", "arguments": {} }))),
            rounds: 0,
            tasks: Default::default(),
        }
    }

    /// The first step for request `id` whose server asked `result` of a client declaring
    /// everything (`all`) or nothing.
    fn step(b: &mut Bridges, id: u64, result: &RawValue, all: bool) -> Step {
        b.input_required(
            RequestId::from(id),
            0,
            Answer::Relay,
            first(),
            result,
            MINUTE,
            |_| all,
        )
    }

    fn asking(requests: Value, state: Option<&str>) -> Box<RawValue> {
        let mut r = json!({ "resultType": "input_required", "inputRequests": requests });
        if let Some(s) = state {
            r["requestState"] = json!(s);
        }
        raw(&r)
    }

    #[test]
    fn each_input_goes_to_the_client_and_the_request_comes_back_with_the_answers() {
        let mut b = Bridges::default();
        let result = asking(
            json!({
                "name": { "method": "elicitation/create", "params": { "message": "Who?" } },
                "where": { "method": "roots/list" },
            }),
            Some("v1.sealed"),
        );
        assert!(asks_for_input(&result));
        let id = RequestId::from(7);
        let Step::Ask(asks) = b.input_required(
            id.clone(),
            2,
            Answer::Tool,
            first(),
            &result,
            MINUTE,
            |_| true,
        ) else {
            panic!("asks")
        };
        assert_eq!(asks.len(), 2);
        assert_eq!(asks[0].method, "elicitation/create");
        assert_eq!(value(asks[0].params.as_deref().unwrap())["message"], "Who?");
        // Answers in any order; an unknown id is not ours.
        assert!(
            b.answered(&RequestId::from(99), Ok(raw(&json!({}))))
                .is_none()
        );
        assert!(matches!(
            b.answered(&asks[1].id, Ok(raw(&json!({ "roots": [] })))),
            Some(None)
        ));
        let Some(Some(Step::Retry {
            id: again,
            server,
            retry,
            ..
        })) = b.answered(
            &asks[0].id,
            Ok(raw(
                &json!({ "action": "accept", "content": { "name": "Ada" } }),
            )),
        )
        else {
            panic!("retry")
        };
        assert_eq!((again, server, retry.rounds), (id, 2, 1));
        let params = value(retry.params.as_deref().unwrap());
        assert_eq!(params["name"], "greet");
        assert_eq!(params["requestState"], "v1.sealed");
        assert_eq!(params["inputResponses"]["name"]["content"]["name"], "Ada");
        assert_eq!(params["inputResponses"]["where"], json!({ "roots": [] }));
        assert!(b.is_empty());
    }

    #[test]
    fn what_the_client_cannot_give_is_declined_or_fails_the_request() {
        let mut b = Bridges::default();
        let elicit = asking(
            json!({ "k": { "method": "elicitation/create", "params": {} } }),
            None,
        );
        let Step::Retry { retry, .. } = step(&mut b, 1, &elicit, false) else {
            panic!("declined and retried")
        };
        let params = value(retry.params.as_deref().unwrap());
        assert_eq!(params["inputResponses"]["k"]["action"], "decline");
        assert!(params.get("requestState").is_none());

        let sample = asking(
            json!({ "k": { "method": "sampling/createMessage", "params": {} } }),
            None,
        );
        let Step::Fail { error, .. } = step(&mut b, 2, &sample, false) else {
            panic!("fails")
        };
        assert_eq!(error.code, -32021);
        assert!(error.message.contains("sampling"), "{}", error.message);
        // A request asking for something askable and something not leaves no ask behind.
        let mixed = asking(
            json!({ "a": { "method": "elicitation/create" }, "b": { "method": "tools/call" } }),
            None,
        );
        assert!(matches!(step(&mut b, 3, &mixed, true), Step::Fail { .. }));
        assert!(b.asks.is_empty() && b.is_empty());
    }

    #[test]
    fn rounds_are_bounded_and_cancelled_bridges_forget_their_asks() {
        let mut b = Bridges::default();
        let result = asking(
            json!({ "k": { "method": "elicitation/create" } }),
            Some("s"),
        );
        let tired = Retry {
            rounds: MAX_ROUNDS,
            ..first()
        };
        assert!(matches!(
            b.input_required(
                RequestId::from(1),
                0,
                Answer::Relay,
                tired,
                &result,
                MINUTE,
                |_| true
            ),
            Step::Fail { .. }
        ));
        let Step::Ask(asks) = step(&mut b, 2, &result, true) else {
            panic!("asks")
        };
        assert_eq!(
            b.cancel(&RequestId::from(2)),
            Some(vec![asks[0].id.clone()])
        );
        assert_eq!(b.cancel(&RequestId::from(2)), None);
        assert!(b.is_empty());
        assert!(b.answered(&asks[0].id, Ok(raw(&json!({})))).is_none());
        // An answer that is an error ends the request, and withdraws what else was asked.
        let two = asking(
            json!({ "a": { "method": "elicitation/create" }, "b": { "method": "roots/list" } }),
            None,
        );
        let Step::Ask(asks) = step(&mut b, 3, &two, true) else {
            panic!("asks")
        };
        let error = ErrorObject::new(-1, "no");
        let Some(Some(Step::Fail { withdraw, .. })) = b.answered(&asks[0].id, Err(error)) else {
            panic!("fails")
        };
        assert_eq!(withdraw, vec![asks[1].id.clone()]);
        assert!(b.asks.is_empty());
    }

    #[test]
    fn a_client_that_does_not_answer_in_time_fails_the_request() {
        let mut b = Bridges::default();
        let result = asking(json!({ "k": { "method": "elicitation/create" } }), None);
        let Step::Ask(asks) = b.input_required(
            RequestId::from(5),
            0,
            Answer::Tool,
            first(),
            &result,
            Duration::from_millis(10),
            |_| true,
        ) else {
            panic!("asks")
        };
        assert!(b.expired(Instant::now()).is_empty());
        let later = Instant::now() + Duration::from_secs(1);
        let failed = b.expired(later);
        let [
            Step::Fail {
                id,
                error,
                withdraw,
                ..
            },
        ] = failed.as_slice()
        else {
            panic!("one failed")
        };
        assert_eq!(*id, RequestId::from(5));
        assert_eq!(error.code, code::REQUEST_TIMEOUT);
        assert_eq!(*withdraw, vec![asks[0].id.clone()]);
        assert!(b.is_empty() && b.asks.is_empty());
    }
}
