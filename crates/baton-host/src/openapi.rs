//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::{
    channels, conversations, events, ops, people, plugins, settings, webhooks, workflows,
};

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Baton", description = "Customer agent handoff server: one configuration, every channel."),
    paths(
        ops::healthz, ops::readyz, ops::metrics, ops::openapi, ops::audit,
        settings::get_settings, settings::put_settings, settings::simulate,
        settings::get_agent, settings::put_agent,
        people::create_user, people::list_users, people::get_user, people::update_user,
        people::create_token,
        people::set_availability, people::set_capacity, people::set_working_hours,
        people::create_team, people::list_teams, people::create_inbox, people::list_inboxes,
        conversations::list, conversations::get_one, conversations::claim, conversations::assign,
        conversations::reply, conversations::list_messages, conversations::close,
        conversations::handback, conversations::reopen, conversations::ticket, events::events,
        workflows::list, workflows::create, workflows::get_one, workflows::update,
        workflows::templates, workflows::from_template, plugins::list,
        webhooks::create, webhooks::list, webhooks::remove, webhooks::deliveries,
        webhooks::replay,
        channels::list, channels::quarantine, channels::retry, channels::mails,
        channels::conversation_mails,
        baton_channel_chat::openapi::create_conversation,
        baton_channel_chat::openapi::post_message,
        baton_channel_chat::openapi::list_messages,
        baton_channel_chat::openapi::get_conversation,
        baton_channel_chat::openapi::choose,
        baton_channel_chat::openapi::options,
        baton_channel_chat::openapi::events,
        baton_channel_messaging::openapi::handshake,
        baton_channel_messaging::openapi::inbound,
    ),
    modifiers(&Security)
)]
pub struct ApiDoc;

#[derive(Debug)]
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "visitor_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
