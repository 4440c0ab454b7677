//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
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
    modifiers(&Security, &ErrorResponses)
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

/// The error answers the edge and the extractors give to any operation of a kind, added where
/// a handler's annotation does not already describe them, so every status an operation can
/// return is in the document without repeating it on each handler.
#[derive(Debug)]
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                add_error_responses(path, operation);
            }
        }
    }
}

fn add_error_responses(path: &str, operation: &mut Operation) {
    let params = operation.parameters.as_deref().unwrap_or_default();
    let has_path_params = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let has_params = !params.is_empty();
    let has_body = operation.request_body.is_some();
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    // The per-address rate and stream limits guard the public edge only (README, Limits).
    let limited = path.starts_with("/api/v1/chat/") || path.starts_with("/webhooks/");
    let streams = path.ends_with("/events");

    let mut wanted: Vec<(&str, &str)> = Vec::new();
    if has_params || has_body {
        wanted.push((
            "400",
            "A path or query parameter, or the body, is malformed",
        ));
        wanted.push(("422", "A parameter or a field is out of its range"));
    }
    if secured {
        wanted.push(("401", "No credentials, or credentials that are not valid"));
        wanted.push(("403", "The credentials do not allow this"));
    }
    if has_path_params {
        wanted.push(("404", "Nothing with this identifier"));
    }
    if has_body {
        wanted.push(("413", "The body is over the route's size limit"));
        wanted.push(("415", "The body is not `application/json`"));
    }
    if limited {
        wanted.push(("429", "Over a per-address limit; see `Retry-After`"));
    }
    if streams {
        wanted.push(("503", "Over the total stream limit; see `Retry-After`"));
    }
    for (status, description) in wanted {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(error_response(status, description)));
    }
}

fn error_response(status: &str, description: &str) -> Response {
    let response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build(),
    );
    // A path segment that does not parse (an id past i64) is refused by axum's own extractor,
    // before any handler, with a plain-text sentence.
    if status == "400" {
        response.content("text/plain", ContentBuilder::new().build())
    } else {
        response
    }
    .build()
}
