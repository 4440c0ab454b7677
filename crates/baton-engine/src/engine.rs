//! The engine: one visitor message from arrival to stored decision, and the staff-side
//! changes that move conversations (claims, closes, availability), each followed by the
//! events and metrics it causes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use baton_core::decision::{self, AgentAnswer, Decision, Found, Signals, Trigger};
use baton_core::hours::WorkingHours;
use baton_core::ids::{ConversationId, TeamId, UserId};
use baton_core::people::Availability;
use baton_core::settings::{Destination, FieldError, HandoffSettings, Process};
use baton_core::text::{detect_frustration, detect_human_request, detect_small_talk};
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, broadcast};

use crate::Telemetry;
use crate::events::Event;
use crate::extensions::{Deliverer, Delivery, Extensions};
use crate::model::{
    Assignee, Assignment, Conversation, ConversationStatus, Handback, HandbackReason, HandedBack,
    HandoffPlan, Message, OutboxItem, Reply, Turn, TurnAction, TurnOutcome, User,
    VersionedSettings, VisitorView,
};
use crate::ports::{Answerer, Store, StoreError, StoreResult};
use crate::snapshot::{Compiled, SnapshotCache};
use crate::summary::summarize;

/// Tunables of the engine. Defaults suit one host; several hosts may want a shorter
/// `snapshot_ttl`.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How long a settings snapshot is trusted before it is re-read (changes made on
    /// this host apply at once; on others within this time).
    pub snapshot_ttl: Duration,
    /// How often the outbox is swept for messages a crash left undelivered.
    pub outbox_sweep: Duration,
    /// How often live conversations are checked for an assignee who has not replied.
    pub reroute_sweep: Duration,
    /// How often workflow runs are checked for a delay that is over.
    pub workflow_sweep: Duration,
    /// Plugins: trigger matchers and channel deliverers.
    pub extensions: Extensions,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            snapshot_ttl: Duration::from_secs(1),
            outbox_sweep: Duration::from_secs(2),
            reroute_sweep: Duration::from_secs(15),
            workflow_sweep: Duration::from_secs(1),
            extensions: Extensions::default(),
        }
    }
}

/// What the visitor gets back for one message.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestResult {
    pub replies: Vec<Reply>,
    /// `None` when the message was a repeat, or when a human holds the conversation.
    pub decision: Option<Decision>,
}

/// What the visitor is told when a conversation goes back to the customer agent (B14).
pub const HANDBACK_MESSAGE: &str = "You are talking to the assistant again.";

/// What the visitor is told when staff reopen a closed conversation.
pub const REOPEN_MESSAGE: &str = "Our team reopened this conversation. You can write here again.";

/// The visitor's choice (B16): a person, or the customer agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TalkTo {
    Human,
    Assistant,
}

/// The answer to "what would happen to this message?" (B5), computed without writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    pub decision: Decision,
    pub settings_version: i64,
    /// The configured process the decision was made under.
    pub process: Process,
}

#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    answerer: Arc<dyn Answerer>,
    telemetry: Arc<dyn Telemetry>,
    snapshot: SnapshotCache,
    /// Every event, this host's and other hosts': what live views listen to.
    events: broadcast::Sender<Event>,
    /// This host's events only: what a relay forwards to other hosts.
    local: broadcast::Sender<Event>,
    outbox_ready: Notify,
    config: EngineConfig,
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        answerer: Arc<dyn Answerer>,
        telemetry: Arc<dyn Telemetry>,
        config: EngineConfig,
    ) -> Engine {
        let (events, _) = broadcast::channel(4096);
        let (local, _) = broadcast::channel(4096);
        Engine {
            inner: Arc::new(Inner {
                store,
                answerer,
                telemetry,
                snapshot: SnapshotCache::new(config.snapshot_ttl),
                events,
                local,
                outbox_ready: Notify::new(),
                config,
            }),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Live events, for SSE streams and inbox views.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// The events this host originates, for a relay to forward to other hosts.
    pub fn subscribe_local(&self) -> broadcast::Receiver<Event> {
        self.inner.local.subscribe()
    }

    /// An event another host originated: live views see it, and a settings change makes
    /// the next decision re-read the settings.
    pub async fn publish_foreign(&self, event: Event) {
        if event == Event::SettingsChanged {
            self.inner.snapshot.invalidate().await;
        }
        let _ = self.inner.events.send(event);
    }

    /// Ingests one visitor message of `conversation`, as the channel read it when it
    /// authenticated the visitor. A repeated `client_message_id` is caught by the store
    /// (a unique index) and answered with the first replies.
    pub async fn ingest(
        &self,
        conversation: &Conversation,
        text: &str,
        client_message_id: Option<&str>,
    ) -> StoreResult<IngestResult> {
        if text.trim().is_empty() {
            return Err(FieldError::new("text", "the message is empty").into());
        }
        let store = &*self.inner.store;
        let conversation_id = conversation.id;
        let snapshot = self.inner.snapshot.get(store).await?;
        let (action, decision) = if conversation.assignee != Assignee::Agent
            || conversation.status == ConversationStatus::Closed
        {
            // Handed off: humans hold it (or will, from the queue); the agent is silent.
            // Closed: the store answers a repeat as first answered, and refuses the rest.
            (TurnAction::Store, None)
        } else {
            // The whole conversation so far: the agent answers with it (after a handback
            // it includes what the humans said), and a handoff summarizes it.
            let transcript = store.messages(conversation_id, None).await?;
            let decision = self
                .decide(
                    &snapshot.compiled,
                    snapshot.agent_paused,
                    text,
                    &conversation.channel,
                    &transcript,
                )
                .await;
            let action = match &decision {
                Decision::Reply { text, .. } => TurnAction::Reply(text.clone()),
                Decision::Silent { .. } => TurnAction::Store,
                Decision::Handoff {
                    trigger,
                    process,
                    explanation,
                } => TurnAction::Handoff(Box::new(HandoffPlan {
                    trigger: trigger.clone(),
                    process: *process,
                    settings_version: snapshot.compiled.version,
                    settings: snapshot.compiled.settings.clone(),
                    explanation: explanation.clone(),
                    summary: summarize(conversation, &transcript, Some(text), explanation),
                })),
            };
            (action, Some(decision))
        };
        let outcome = store
            .commit_turn(Turn {
                conversation_id,
                text: text.to_owned(),
                client_message_id: client_message_id.map(str::to_owned),
                action,
                now: Utc::now(),
            })
            .await?;
        match outcome {
            TurnOutcome::Duplicate { replies } => Ok(IngestResult {
                replies,
                decision: None,
            }),
            TurnOutcome::Stored {
                visitor_message,
                replies,
                handoff,
            } => {
                self.inner.telemetry.message_ingested(&conversation.channel);
                self.publish(Event::Message(visitor_message));
                if let Some(handoff) = handoff {
                    self.inner
                        .telemetry
                        .handoff(&handoff.trigger_kind, handoff.process.as_str());
                    self.assigned(handoff.assignment.into_iter().collect());
                }
                self.inner.outbox_ready.notify_one();
                Ok(IngestResult {
                    replies: replies
                        .into_iter()
                        .map(|m| Reply {
                            author: m.author,
                            text: m.text,
                        })
                        .collect(),
                    decision,
                })
            }
        }
    }

    /// What would happen to `text` on `channel` now, with no side effects.
    /// `agent_paused` overrides the stored switch when given.
    pub async fn simulate(
        &self,
        text: &str,
        channel: &str,
        agent_paused: Option<bool>,
    ) -> StoreResult<Simulation> {
        let snapshot = self.inner.snapshot.get(&*self.inner.store).await?;
        let paused = agent_paused.unwrap_or(snapshot.agent_paused);
        let decision = self
            .decide(&snapshot.compiled, paused, text, channel, &[])
            .await;
        Ok(Simulation {
            decision,
            settings_version: snapshot.compiled.version,
            process: snapshot.compiled.settings.process,
        })
    }

    /// [`Engine::simulate`] under `draft` settings instead of the stored ones: what a
    /// person editing the settings would get if they saved now. Nothing is stored; the
    /// draft's references are not checked (they do not change the decision), its
    /// phrases are read as a save would keep them.
    pub async fn simulate_draft(
        &self,
        text: &str,
        channel: &str,
        agent_paused: Option<bool>,
        draft: HandoffSettings,
    ) -> StoreResult<Simulation> {
        let snapshot = self.inner.snapshot.get(&*self.inner.store).await?;
        let paused = agent_paused.unwrap_or(snapshot.agent_paused);
        let process = draft.process;
        let compiled = Compiled::new(VersionedSettings {
            version: snapshot.compiled.version,
            settings: draft,
        });
        let decision = self.decide(&compiled, paused, text, channel, &[]).await;
        Ok(Simulation {
            decision,
            settings_version: snapshot.compiled.version,
            process,
        })
    }

    async fn decide(
        &self,
        compiled: &Compiled,
        agent_paused: bool,
        text: &str,
        channel: &str,
        transcript: &[Message],
    ) -> Decision {
        let settings = &compiled.settings;
        let human = detect_human_request(text).map(|hit| Trigger::AsksForHuman {
            matched: text.get(hit.span.clone()).unwrap_or_default().to_owned(),
            span: hit.span,
        });
        let frustrated = detect_frustration(text).map(|hit| Trigger::Frustrated {
            matched: text.get(hit.span.clone()).unwrap_or_default().to_owned(),
            span: hit.span,
        });
        let custom = compiled.phrases.find(text).map(|hit| Trigger::Custom {
            matched: hit.phrase,
            span: hit.span,
        });
        let found = Found {
            human,
            frustrated,
            custom,
            plugin: None,
        };
        // Plugins come last in the order of triggers: ask them only when nothing built
        // in fired.
        let trigger = match decision::first_trigger(settings, agent_paused, found) {
            Some(built_in) => Some(built_in),
            None => {
                let plugin = self.plugin_trigger(text, channel).await;
                let found = Found {
                    plugin,
                    ..Found::default()
                };
                decision::first_trigger(settings, agent_paused, found)
            }
        };
        let answer: Option<AgentAnswer> =
            if decision::needs_answer(settings, agent_paused, trigger.as_ref()) {
                Some(self.inner.answerer.answer(text, transcript).await)
            } else {
                None
            };
        // Whatever the answerer is, pure small talk never becomes "cannot answer".
        let small_talk = match &answer {
            Some(AgentAnswer::CannotAnswer { .. }) => detect_small_talk(text),
            _ => None,
        };
        let signals = Signals {
            trigger,
            answer,
            small_talk,
        };
        decision::decide(settings, agent_paused, signals)
    }

    /// The first hit of the matcher plugins, in configured order.
    async fn plugin_trigger(&self, text: &str, channel: &str) -> Option<Trigger> {
        for matcher in &self.inner.config.extensions.matchers {
            match matcher.find(text, channel).await {
                Ok(Some(hit)) => {
                    // A span that is not a char range of this text is dropped, not
                    // trusted.
                    let span = hit.span.filter(|s| text.get(s.clone()).is_some());
                    return Some(Trigger::Plugin {
                        plugin: matcher.name().to_owned(),
                        matched: hit.matched,
                        span,
                    });
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(
                    plugin = matcher.name(),
                    %error,
                    "trigger matcher failed; counted as no trigger"
                ),
            }
        }
        None
    }

    pub async fn settings(&self) -> StoreResult<VersionedSettings> {
        self.inner.store.settings().await
    }

    /// Stores new settings. With `expected_version`, only over that version: a save
    /// based on what someone else has since replaced is refused (`Conflict`).
    pub async fn put_settings(
        &self,
        actor: UserId,
        settings: HandoffSettings,
        expected_version: Option<i64>,
    ) -> StoreResult<VersionedSettings> {
        let stored = self
            .inner
            .store
            .put_settings(actor, settings, expected_version, Utc::now())
            .await?;
        self.inner.snapshot.invalidate().await;
        self.publish(Event::SettingsChanged);
        Ok(stored)
    }

    pub async fn agent_paused(&self) -> StoreResult<bool> {
        self.inner.store.agent_paused().await
    }

    pub async fn set_agent_paused(&self, actor: UserId, paused: bool) -> StoreResult<bool> {
        let paused = self
            .inner
            .store
            .set_agent_paused(actor, paused, Utc::now())
            .await?;
        self.inner.snapshot.invalidate().await;
        self.publish(Event::SettingsChanged);
        Ok(paused)
    }

    pub async fn set_availability(
        &self,
        user: UserId,
        availability: Availability,
    ) -> StoreResult<User> {
        let drained = self
            .inner
            .store
            .set_availability(user, availability, Utc::now())
            .await?;
        self.assigned(drained.assignments);
        Ok(drained.value)
    }

    pub async fn set_capacity(&self, user: UserId, capacity: u32) -> StoreResult<User> {
        let drained = self
            .inner
            .store
            .set_capacity(user, capacity, Utc::now())
            .await?;
        self.assigned(drained.assignments);
        Ok(drained.value)
    }

    pub async fn claim(&self, id: ConversationId, user: UserId) -> StoreResult<Conversation> {
        let conversation = self.inner.store.claim(id, user, Utc::now()).await?;
        self.publish(Event::Assigned(Assignment {
            conversation_id: id,
            user_id: user,
            waited_seconds: 0.0,
            rule: "manual claim".into(),
        }));
        Ok(conversation)
    }

    pub async fn assign(
        &self,
        id: ConversationId,
        user: UserId,
        from: Option<UserId>,
        actor: UserId,
    ) -> StoreResult<Conversation> {
        let drained = self
            .inner
            .store
            .assign(id, user, from, actor, Utc::now())
            .await?;
        self.publish(Event::Assigned(Assignment {
            conversation_id: id,
            user_id: user,
            waited_seconds: 0.0,
            rule: format!("manual assignment by user {actor}"),
        }));
        self.assigned(drained.assignments);
        Ok(drained.value)
    }

    pub async fn staff_reply(
        &self,
        id: ConversationId,
        user: UserId,
        text: &str,
    ) -> StoreResult<Message> {
        if text.trim().is_empty() {
            return Err(FieldError::new("text", "the message is empty").into());
        }
        let message = self
            .inner
            .store
            .staff_reply(id, user, text, Utc::now())
            .await?;
        self.inner.outbox_ready.notify_one();
        Ok(message)
    }

    pub async fn close(&self, id: ConversationId, actor: UserId) -> StoreResult<Conversation> {
        let drained = self.inner.store.close(id, actor, Utc::now()).await?;
        self.publish(Event::Closed(id));
        self.assigned(drained.assignments);
        Ok(drained.value)
    }

    /// A staff member gives the conversation back to the customer agent (B14). `expected`
    /// is the holder the caller checked its permission against: if someone else holds
    /// it by now, the handback is refused (`Conflict`) instead of taking it from them.
    /// Already with the agent: nothing changes.
    pub async fn hand_back(
        &self,
        id: ConversationId,
        actor: UserId,
        expected: Option<Assignee>,
    ) -> StoreResult<Conversation> {
        let done = self
            .commit_handback(Handback {
                conversation_id: id,
                reason: HandbackReason::Staff,
                actor: Some(actor),
                expected,
                text: HANDBACK_MESSAGE.into(),
                now: Utc::now(),
            })
            .await?;
        Ok(done.conversation)
    }

    async fn commit_handback(&self, handback: Handback) -> StoreResult<HandedBack> {
        let id = handback.conversation_id;
        let reason = handback.reason;
        let done = self.inner.store.hand_back(handback).await?;
        if done.message.is_some() {
            self.inner.telemetry.handed_back(reason.as_str());
            self.publish(Event::HandedBack {
                conversation_id: id,
                from_user: done.from_user,
                reason,
            });
            self.assigned(done.assignments.clone());
            self.inner.outbox_ready.notify_one();
        }
        Ok(done)
    }

    /// Gives a conversation to a member of `team` under the routing rules (see
    /// [`Store::assign_team`]).
    pub async fn assign_team(
        &self,
        id: ConversationId,
        team: TeamId,
        from: Option<UserId>,
        actor: UserId,
    ) -> StoreResult<Conversation> {
        let drained = self
            .inner
            .store
            .assign_team(id, team, from, actor, Utc::now())
            .await?;
        self.assigned(drained.assignments);
        Ok(drained.value)
    }

    /// Opens a closed conversation again, held by the customer agent as a new
    /// conversation is: the agent answers the visitor's next message, and a handoff
    /// routes it afresh under the settings of that moment. `Conflict` when it is open.
    pub async fn reopen(&self, id: ConversationId, actor: UserId) -> StoreResult<Conversation> {
        let conversation = self
            .inner
            .store
            .reopen(id, actor, REOPEN_MESSAGE, Utc::now())
            .await?;
        self.inner.telemetry.reopened();
        self.publish(Event::Reopened(id));
        self.inner.outbox_ready.notify_one();
        Ok(conversation)
    }

    /// The visitor's choice (B16) on `conversation`, as the channel read it when it
    /// authenticated the visitor; returns what the visitor is shown.
    ///
    /// - `Human`: a handoff with trigger `visitor_choice` under the configured process,
    ///   destination, availability and messages — the same store path as a message's
    ///   handoff, without a visitor message: the available/unavailable message is the
    ///   visitor-visible line, and the summary, audit row and handoff record say the
    ///   visitor chose. Allowed up front and mid-conversation. `Conflict` when the
    ///   process is `none` (nobody takes handoffs). No replies when humans already
    ///   hold the conversation or it already waits for them.
    /// - `Assistant`: a handback with reason `visitor` (the visitor is told they talk to
    ///   the assistant again). No replies when the agent already holds it.
    ///
    /// `Conflict` on a closed conversation.
    pub async fn choose(
        &self,
        conversation: &Conversation,
        talk_to: TalkTo,
    ) -> StoreResult<Vec<Reply>> {
        if conversation.status == ConversationStatus::Closed {
            return Err(StoreError::Conflict(
                "the conversation is closed; start a new one".into(),
            ));
        }
        let reply = |m: Message| Reply {
            author: m.author,
            text: m.text,
        };
        match talk_to {
            TalkTo::Assistant => {
                let done = self
                    .commit_handback(Handback {
                        conversation_id: conversation.id,
                        reason: HandbackReason::Visitor,
                        actor: None,
                        expected: None,
                        text: HANDBACK_MESSAGE.into(),
                        now: Utc::now(),
                    })
                    .await?;
                Ok(done.message.into_iter().map(reply).collect())
            }
            TalkTo::Human => {
                let store = &*self.inner.store;
                let snapshot = self.inner.snapshot.get(store).await?;
                let settings = &snapshot.compiled.settings;
                let Some(Decision::Handoff {
                    trigger,
                    process,
                    explanation,
                }) = decision::visitor_choice(settings)
                else {
                    return Err(StoreError::Conflict(
                        "the handoff process is \"none\": nobody takes conversations from \
                         the assistant, so a person cannot be chosen"
                            .into(),
                    ));
                };
                if !decision::may_choose_human(settings) {
                    return Err(StoreError::Conflict(
                        "the handoff settings do not let visitors choose a person (the \
                         visitor_choice setting and the asks_for_human trigger are off)"
                            .into(),
                    ));
                }
                if conversation.assignee != Assignee::Agent {
                    return Ok(Vec::new());
                }
                let transcript = store.messages(conversation.id, None).await?;
                let plan = HandoffPlan {
                    trigger,
                    process,
                    settings_version: snapshot.compiled.version,
                    settings: snapshot.compiled.settings.clone(),
                    summary: summarize(conversation, &transcript, None, &explanation),
                    explanation,
                };
                let Some(done) = store.hand_off(conversation.id, plan, Utc::now()).await? else {
                    return Ok(Vec::new());
                };
                self.inner
                    .telemetry
                    .handoff(&done.outcome.trigger_kind, done.outcome.process.as_str());
                self.assigned(done.outcome.assignment.into_iter().collect());
                self.inner.outbox_ready.notify_one();
                Ok(vec![reply(done.message)])
            }
        }
    }

    /// The visitor's side of `conversation` (B7, B16): who holds it, its place in the
    /// queue, and whether to offer "assistant or person" up front (with whether someone
    /// could take it now, under the rule the router applies).
    pub async fn visitor_view(&self, conversation: Conversation) -> StoreResult<VisitorView> {
        let store = &*self.inner.store;
        let open = conversation.status == ConversationStatus::Open;
        let queue_position = if open && conversation.queued {
            store.queue_position(conversation.id).await?
        } else {
            None
        };
        let assignee_name = match conversation.assignee {
            Assignee::User(user) => Some(store.user(user).await?.name),
            Assignee::Agent | Assignee::None => None,
        };
        let (visitor_choice, humans_available) = if open && conversation.assignee == Assignee::Agent
        {
            self.visitor_offer().await?
        } else {
            let snapshot = self.inner.snapshot.get(store).await?;
            (
                decision::offers_visitor_choice(&snapshot.compiled.settings),
                None,
            )
        };
        Ok(VisitorView {
            conversation,
            assignee_name,
            queue_position,
            visitor_choice,
            humans_available,
        })
    }

    /// What a visitor held by the assistant is offered before the first message: whether
    /// to offer the choice between the assistant and a person (B16), and when it is
    /// offered and a list of people receives handoffs, whether one of them could take a
    /// conversation now, under the rule the router applies.
    pub async fn visitor_offer(&self) -> StoreResult<(bool, Option<bool>)> {
        let store = &*self.inner.store;
        let snapshot = self.inner.snapshot.get(store).await?;
        let settings = &snapshot.compiled.settings;
        let visitor_choice = decision::offers_visitor_choice(settings);
        let humans_available = match (&settings.destination, decision::visitor_choice(settings)) {
            (
                Some(Destination::UsersAndTeams {
                    user_ids, team_ids, ..
                }),
                Some(Decision::Handoff { process, .. }),
            ) if visitor_choice => Some(
                store
                    .anyone_eligible(user_ids, team_ids, process, Utc::now())
                    .await?,
            ),
            _ => None,
        };
        Ok((visitor_choice, humans_available))
    }

    fn assigned(&self, assignments: Vec<Assignment>) {
        for assignment in assignments {
            self.inner.telemetry.assigned(assignment.waited_seconds);
            self.publish(Event::Assigned(assignment));
        }
    }

    fn publish(&self, event: Event) {
        // No subscriber is not an error: live views and relays are optional.
        let _ = self.inner.local.send(event.clone());
        let _ = self.inner.events.send(event);
    }

    /// Wakes the outbox dispatcher after a commit made outside the engine wrote rows.
    pub fn wake_outbox(&self) {
        self.inner.outbox_ready.notify_one();
    }

    /// Delivers outbox messages until the process ends: after every commit that wrote
    /// some, and on a timer for what a crash left behind.
    pub async fn run_outbox(self) {
        let sweep = self.inner.config.outbox_sweep;
        match self.inner.store.release_outbox_claims().await {
            Ok(0) => {}
            Ok(freed) => tracing::info!(
                freed,
                stage = "outbox",
                "claims of the previous process freed"
            ),
            Err(error) => tracing::warn!(%error, stage = "outbox", "could not free old claims"),
        }
        loop {
            match self.deliver_outbox().await {
                Ok(0) => {
                    let _ = tokio::time::timeout(sweep, self.inner.outbox_ready.notified()).await;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, stage = "outbox", "delivery failed");
                    tokio::time::sleep(sweep).await;
                }
            }
        }
    }

    /// Until the process ends (B7): re-routes unanswered live conversations on the
    /// timeout the settings name, and applies working hours that began or ended.
    pub async fn run_rerouting(self) {
        let mut tick = tokio::time::interval(self.inner.config.reroute_sweep);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = self.reroute_once().await {
                tracing::warn!(%error, stage = "reroute", "re-routing failed");
            }
            match self.inner.store.sweep_hours(Utc::now()).await {
                Ok(assignments) => self.assigned(assignments),
                Err(error) => tracing::warn!(%error, stage = "hours", "working hours pass failed"),
            }
        }
    }

    /// Advances workflow runs until the process ends: delays that are over, and runs a
    /// crash interrupted.
    pub async fn run_workflows(self) {
        let mut tick = tokio::time::interval(self.inner.config.workflow_sweep);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match self.inner.store.advance_workflows(Utc::now()).await {
                Ok(assignments) => {
                    self.assigned(assignments);
                    self.inner.outbox_ready.notify_one();
                }
                Err(error) => tracing::warn!(%error, stage = "workflows", "workflow pass failed"),
            }
        }
    }

    pub async fn set_working_hours(
        &self,
        user: UserId,
        hours: Option<WorkingHours>,
    ) -> StoreResult<User> {
        let drained = self
            .inner
            .store
            .set_working_hours(user, hours, Utc::now())
            .await?;
        self.assigned(drained.assignments);
        Ok(drained.value)
    }

    /// One re-routing pass; returns how many conversations moved.
    pub async fn reroute_once(&self) -> StoreResult<usize> {
        let snapshot = self.inner.snapshot.get(&*self.inner.store).await?;
        let seconds = snapshot.compiled.settings.live_reply_timeout_seconds;
        if seconds == 0 {
            return Ok(0);
        }
        let moves = self
            .inner
            .store
            .reroute_unanswered(Duration::from_secs(u64::from(seconds)), Utc::now())
            .await?;
        let moved = moves.len();
        self.assigned(moves);
        Ok(moved)
    }

    /// Delivers one batch; returns how many rows it settled (delivered, failed or
    /// scheduled for a retry).
    pub async fn deliver_outbox(&self) -> StoreResult<usize> {
        let now = Utc::now();
        let lease_until = now + chrono::Duration::from_std(OUTBOX_LEASE).unwrap_or_default();
        let items = self.inner.store.claim_outbox(256, now, lease_until).await?;
        if items.is_empty() {
            return Ok(0);
        }
        let settled = items.len();
        let deliverers = &self.inner.config.extensions.deliverers;
        let mut delivered = Vec::with_capacity(items.len());
        let mut per_channel: HashMap<String, usize> = HashMap::new();
        let mut sends = Vec::new();
        for item in items {
            *per_channel.entry(item.channel.clone()).or_default() += 1;
            match deliverers.get(&item.channel) {
                // Providers: a request each, all of the batch at once, each on its own
                // task and recorded as soon as it is answered, so a crash resends only
                // what was in flight. (Polled together in one task, a send paused while
                // holding SQLite's one connection would starve another's recording.)
                Some(deliverer) => {
                    sends.push(tokio::spawn(self.clone().deliver_one(
                        deliverer.clone(),
                        item,
                        now,
                    )));
                }
                // Web chat delivers through live events (SSE reads them, and replays
                // from the message table on reconnect), so publishing is delivery.
                None => {
                    delivered.push(item.id);
                    self.publish(Event::Message(item.message));
                }
            }
        }
        if !delivered.is_empty() {
            self.inner
                .store
                .mark_delivered(&delivered, Utc::now())
                .await?;
        }
        let mut failed = None;
        for send in futures_util::future::join_all(sends).await {
            match send {
                Ok(Ok(())) => {}
                Ok(Err(error)) => failed = Some(error),
                // A deliverer that panicked: the row comes back when its claim ends.
                Err(error) => tracing::error!(%error, stage = "outbox", "a delivery panicked"),
            }
        }
        if let Some(error) = failed {
            return Err(error);
        }
        tracing::debug!(?per_channel, "outbox batch settled");
        Ok(settled)
    }
}

impl Engine {
    /// Sends one claimed row within [`DELIVERY_DEADLINE`] and records how it went.
    async fn deliver_one(
        self,
        deliverer: Arc<dyn Deliverer>,
        item: OutboxItem,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let outcome = tokio::time::timeout(DELIVERY_DEADLINE, deliverer.deliver(&item))
            .await
            .unwrap_or_else(|_| Delivery::Retry {
                after: None,
                reason: format!("no answer within {} s", DELIVERY_DEADLINE.as_secs()),
            });
        let store = &self.inner.store;
        match outcome {
            Delivery::Sent => {
                store.mark_delivered(&[item.id], Utc::now()).await?;
                self.publish(Event::Message(item.message));
            }
            Delivery::Retry { after, reason } => {
                let wait = retry_after(item.attempts, after);
                tracing::warn!(
                    channel = %item.channel, outbox = item.id, attempts = item.attempts + 1,
                    retry_in_seconds = wait.as_secs_f64(), %reason, stage = "outbox",
                    "delivery failed; will retry"
                );
                let at = now + chrono::Duration::from_std(wait).unwrap_or_default();
                store.mark_retry(item.id, at, &reason, now).await?;
            }
            Delivery::Failed { reason } => {
                tracing::error!(
                    channel = %item.channel, outbox = item.id, %reason, stage = "outbox",
                    "delivery failed for good"
                );
                store.mark_failed(item.id, &reason, now).await?;
            }
        }
        Ok(())
    }
}

/// How long a host holds the outbox rows it claimed. Longer than [`DELIVERY_DEADLINE`], so
/// a live host settles every row before its claim ends and no other host sends it too;
/// after a crash the rows go out again once it passes.
const OUTBOX_LEASE: Duration = Duration::from_secs(60);

/// The longest one delivery may take (a provider's HTTP request, an SMTP session); past
/// it the row is retried. A send cut off here may still have reached the provider: the
/// outbox is at least once, as every delivery without the provider's idempotency is.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(45);

/// How long to wait before attempt `attempts + 1`: what the provider asked for (at most an
/// hour), else exponential from one second, at most five minutes.
fn retry_after(attempts: u32, asked: Option<Duration>) -> Duration {
    match asked {
        Some(asked) => asked.clamp(Duration::from_secs(1), Duration::from_secs(3600)),
        None => Duration::from_secs(1u64 << attempts.min(8)).min(Duration::from_secs(300)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_honour_the_provider() {
        let check = |attempts, asked: Option<u64>, expect: u64| {
            let got = retry_after(attempts, asked.map(Duration::from_secs));
            assert_eq!(got, Duration::from_secs(expect), "{attempts} {asked:?}");
        };
        check(0, None, 1);
        check(1, None, 2);
        check(5, None, 32);
        check(8, None, 256);
        check(30, None, 256);
        check(3, Some(7), 7);
        check(3, Some(0), 1);
        check(3, Some(86_400), 3600);
    }
}
