//! The OpenAPI 3 document, generated from the handlers' annotations.

use serde_json::{Value, json};
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
    // A path segment that is not UTF-8 once percent-decoded is refused by axum's own
    // extractor where a handler uses it (the plugin webhooks' `{name}`), before the
    // handler, with a plain-text sentence. `ApiPath` answers such ids with the 404 body.
    if status == "400" {
        response.content("text/plain", ContentBuilder::new().build())
    } else {
        response
    }
    .build()
}

/// The document `GET /openapi.json` serves: the generated one with [`exact_schemas`] put in.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    for (pointer, schema) in exact_schemas() {
        // Every pointer names a place the generated document has (a test checks it).
        if let Some(place) = doc.pointer_mut(pointer) {
            *place = schema;
        } else if let Some((parent, key)) = pointer.rsplit_once('/')
            && let Some(Value::Object(map)) = doc.pointer_mut(parent)
        {
            map.insert(key.replace("~1", "/").replace("~0", "~"), schema);
        }
    }
    add_draft_settings(&mut doc);
    doc
}

/// Simulate's draft `settings` are the PUT document's shape without its value checks:
/// a draft is tried as it is being edited, so nothing in it is refused but its shape
/// (any `u32` timeout, messages of any length, no destination needed). `DraftSettings` is
/// `SettingsDoc` with those checks left out, and simulate's body points to it.
fn add_draft_settings(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let (Some(mut draft), Some(mut messages)) = (
        schemas.get("SettingsDoc").cloned(),
        schemas.get("MessagesDto").cloned(),
    ) else {
        return;
    };
    if let Some(properties) = messages["properties"].as_object_mut() {
        for property in properties.values_mut() {
            if let Some(property) = property.as_object_mut() {
                property.remove("maxLength");
                property.remove("description");
            }
        }
    }
    draft["description"] = json!(
        "The PUT document as a draft: its shape is checked (a destination names what its \
         kind routes to), not its values or references"
    );
    draft["properties"]["live_reply_timeout_seconds"] = json!({
        "type": "integer", "minimum": 0, "maximum": u32::MAX, "default": 300});
    draft["properties"]["messages"] = json!({"$ref": "#/components/schemas/DraftMessages"});
    schemas.insert("DraftSettings".into(), draft);
    schemas.insert("DraftMessages".into(), messages);
    if let Some(settings) =
        doc.pointer_mut("/components/schemas/SimulateRequest/properties/settings")
    {
        let text = settings.to_string().replace(
            "#/components/schemas/SettingsDoc",
            "#/components/schemas/DraftSettings",
        );
        if let Ok(value) = serde_json::from_str(&text) {
            *settings = value;
        }
    }
}

/// Schemas the derives cannot say, written as JSON Schema and put at their JSON pointer:
/// a choice between shapes (`oneOf`), a gap in a range, the workflow definition (its
/// types live in `baton-workflows`, which knows nothing of OpenAPI). Each states exactly
/// what the handler accepts; what only the data decides (an id that exists, a time zone
/// the server knows) stays a documented 422.
fn exact_schemas() -> Vec<(&'static str, Value)> {
    let id = json!({"type": "integer", "format": "int64"});
    let none = json!({"type": "null"});
    let hhmm = json!({"type": "string", "pattern": "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"});
    let span = json!({"type": "array", "items": hhmm, "minItems": 2, "maxItems": 2,
        "description": "`[start, end)` as `HH:MM`; a span ends after it starts"});
    let mut days = serde_json::Map::new();
    for day in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] {
        days.insert(day.into(), json!({"type": "array", "items": span}));
    }
    let workflow = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let tagged = |tag: &str, properties: Value, required: &[&str]| {
        let mut properties = properties;
        if let Some(map) = properties.as_object_mut() {
            map.insert("type".into(), json!({"type": "string", "enum": [tag]}));
        }
        let mut required: Vec<&str> = required.to_vec();
        required.push("type");
        json!({"type": "object", "properties": properties, "required": required,
            "additionalProperties": false})
    };
    let text = |max: u64| json!({"type": "string", "pattern": "\\S", "maxLength": max});
    vec![
        (
            "/components/schemas/AssignRequest",
            json!({
                "description": "Exactly one of `user_id` (a user with a paid seat and free \
                    capacity) and `team_id` (one of its members under the routing rules of a \
                    live handoff; 409 when none can take it now). `from_user_id` is the \
                    current owner, required when someone holds the conversation.",
                "oneOf": [
                    {"type": "object", "required": ["user_id"], "additionalProperties": false,
                     "properties": {"user_id": id, "team_id": none,
                        "from_user_id": {"type": ["integer", "null"], "format": "int64"}}},
                    {"type": "object", "required": ["team_id"], "additionalProperties": false,
                     "properties": {"team_id": id, "user_id": none,
                        "from_user_id": {"type": ["integer", "null"], "format": "int64"}}},
                ]
            }),
        ),
        (
            "/components/schemas/SettingsDoc/properties/live_reply_timeout_seconds",
            json!({
                "description": "A live conversation whose assignee has not replied within \
                    this many seconds goes to the next eligible user; 0 never re-routes.",
                "type": "integer", "format": "int32", "default": 300,
                "anyOf": [{"enum": [0]}, {"minimum": 30, "maximum": 86_400}]
            }),
        ),
        (
            // Each kind names what it routes to; the other fields are ignored.
            "/components/schemas/DestinationDto/oneOf",
            json!([
                {"properties": {"kind": {"enum": ["users_and_teams"]}, "inbox_id": id},
                 "required": ["kind", "inbox_id"]},
                {"properties": {"kind": {"enum": ["workflow"]}, "workflow_id": id},
                 "required": ["kind", "workflow_id"]},
            ]),
        ),
        (
            "/components/schemas/WorkingHoursDto/properties/days",
            json!({"type": "object", "properties": days, "additionalProperties": false,
                "description": "Per day, spans that do not overlap"}),
        ),
        (
            "/components/schemas/CreateWebhook/properties/url",
            json!({"type": "string", "format": "uri", "pattern": "^\\s*[Hh][Tt][Tt][Pp][Ss]?://[^/?#\\s]",
                "maxLength": 2048,
                "description": "An http or https URL; private, loopback and link-local hosts \
                    are refused (422) unless `[webhooks] allow_private_targets` is set, and \
                    so is a host that does not resolve."}),
        ),
        (
            "/components/schemas/CreateWebhook/properties/events",
            json!({
                "description": "`[\"*\"]` for every event, or event type names (repeats are \
                    dropped).",
                "oneOf": [
                    {"type": "array", "items": {"type": "string", "enum": ["*"]},
                     "minItems": 1, "maxItems": 1},
                    {"type": "array", "minItems": 1,
                     "items": {"type": "string", "enum": baton_engine::model::WEBHOOK_EVENT_TYPES}},
                ]
            }),
        ),
        (
            "/components/schemas/WorkflowDefinition",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["name", "object", "enrollment", "actions"],
                "properties": {
                    "name": text(200),
                    "object": {"type": "string", "enum": ["ticket", "contact"],
                        "description": "Only ticket-based workflows can be a handoff destination"},
                    "enrollment": {"type": "string", "enum": ["ticket_created_by_handoff"]},
                    "actions": {"type": "array", "items": workflow("WorkflowAction")},
                }
            }),
        ),
        (
            "/components/schemas/WorkflowAction",
            json!({
                "description": "One step. Users and teams named must exist; users in an \
                    owner rotation need a paid seat (else 422). Branches nest at most 8 deep.",
                "oneOf": [
                    tagged("rotate_owner", json!({
                        "user_ids": {"type": "array", "items": id},
                        "team_id": {"type": ["integer", "null"], "format": "int64"}}), &[]),
                    tagged("assign_team", json!({"team_id": id}), &["team_id"]),
                    tagged("set_property", json!({
                        "name": {"type": "string", "pattern": "\\S", "maxLength": 100,
                            "description": "At most 100 bytes"},
                        "value": {"type": "string"}}), &["name", "value"]),
                    tagged("set_priority", json!({"priority": {"type": "string",
                        "enum": ["low", "medium", "high", "urgent"]}}), &["priority"]),
                    tagged("send_message", json!({"text": text(2000)}), &["text"]),
                    tagged("delay", json!({"seconds": {"type": "integer", "format": "int64",
                        "minimum": 1, "maximum": 2_592_000}}), &["seconds"]),
                    tagged("branch", json!({
                        "arms": {"type": "array", "minItems": 1,
                            "items": workflow("WorkflowArm")},
                        "otherwise": {"type": "array", "items": workflow("WorkflowAction")}}),
                        &["arms"]),
                ]
            }),
        ),
        (
            "/components/schemas/WorkflowArm",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["condition", "actions"],
                "properties": {
                    "condition": workflow("WorkflowCondition"),
                    "actions": {"type": "array", "items": workflow("WorkflowAction")},
                }
            }),
        ),
        (
            "/components/schemas/WorkflowCondition",
            json!({
                "oneOf": [
                    tagged("source_channel", json!({"equals": {"type": "string"}}), &["equals"]),
                    tagged("ticket_property", json!({"name": {"type": "string"},
                        "equals": {"type": "string"}}), &["name", "equals"]),
                    tagged("text_contains", json!({"text": {"type": "string"}}), &["text"]),
                    tagged("within_working_hours", json!({}), &[]),
                    tagged("all", json!({"conditions": {"type": "array",
                        "items": workflow("WorkflowCondition")}}), &["conditions"]),
                    tagged("any", json!({"conditions": {"type": "array",
                        "items": workflow("WorkflowCondition")}}), &["conditions"]),
                    tagged("not", json!({"condition": workflow("WorkflowCondition")}),
                        &["condition"]),
                ]
            }),
        ),
        (
            "/paths/~1api~1v1~1workflows/post/requestBody/content/application~1json/schema",
            workflow("WorkflowDefinition"),
        ),
        (
            "/paths/~1api~1v1~1workflows~1{id}/put/requestBody/content/application~1json/schema",
            workflow("WorkflowDefinition"),
        ),
        (
            // Each server-sent event as schemathesis and OpenAPI 3.2 read a stream: `event`,
            // `data` (JSON text) and, for messages, `id`.
            "/paths/~1api~1v1~1chat~1conversations~1{id}~1events/get/responses/200/content/text~1event-stream/schema",
            json!({"oneOf": [
                {"type": "object", "required": ["event", "data"],
                 "properties": {"event": {"enum": ["message"]}, "id": {"type": "string"},
                    "data": {"type": "string", "contentMediaType": "application/json",
                        "contentSchema": {"$ref": "#/components/schemas/ChatMessage"}}}},
                {"type": "object", "required": ["event", "data"],
                 "properties": {"event": {"enum": ["state"]},
                    "data": {"type": "string", "contentMediaType": "application/json",
                        "contentSchema": {"$ref": "#/components/schemas/VisitorState"}}}},
            ]}),
        ),
        (
            // A browser sends back whatever id it last saw; one that is not a message id
            // is ignored (the stream starts with the state).
            "/paths/~1api~1v1~1chat~1conversations~1{id}~1events/get/parameters/1/schema",
            json!({"type": "string"}),
        ),
        (
            "/components/schemas/PostMessage/properties/client_message_id",
            json!({"type": ["string", "null"], "minLength": 1, "maxLength": 128,
                "description": "Makes a retry a no-op that returns the first replies; 1 to \
                    128 bytes."}),
        ),
        (
            // A settings version, quoted or not, weak or not; `*` is any version.
            "/paths/~1api~1v1~1handoff~1settings/put/parameters/0/schema",
            json!({"type": "string",
                "pattern": "^[ \\t]*(\\*|(W/)*\"*[+-]?[0-9]{1,18}\"*)[ \\t]*$"}),
        ),
        (
            "/paths/~1api~1v1~1chat~1conversations~1{id}~1messages/post/responses/409",
            json!({"description": "The conversation is closed: start a new one",
                "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/ErrorBody"}}}}),
        ),
        (
            // `null` clears the hours, so the body is `Option<WorkingHoursDto>`; utoipa
            // reads the `Option` as "no body", which the handler refuses (400).
            "/paths/~1api~1v1~1users~1{id}~1working_hours/put/requestBody/required",
            json!(true),
        ),
        (
            "/components/schemas/WorkflowDto/properties/definition",
            workflow("WorkflowDefinition"),
        ),
        (
            "/components/schemas/TemplateDto/properties/definition",
            workflow("WorkflowDefinition"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_exact_schema_lands_in_a_generated_place() {
        let generated = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let last_event_id = "/paths/~1api~1v1~1chat~1conversations~1{id}~1events/get/parameters/1";
        assert_eq!(
            generated.pointer(last_event_id).unwrap()["name"],
            "Last-Event-ID"
        );
        let if_match = "/paths/~1api~1v1~1handoff~1settings/put/parameters/0";
        assert_eq!(generated.pointer(if_match).unwrap()["name"], "If-Match");
        for (pointer, _) in exact_schemas() {
            let (parent, _) = pointer.rsplit_once('/').unwrap();
            assert!(
                generated.pointer(parent).is_some_and(Value::is_object),
                "{parent} is not in the generated document"
            );
        }
        let doc = document();
        for (pointer, schema) in exact_schemas() {
            assert_eq!(doc.pointer(pointer), Some(&schema), "{pointer}");
        }
    }

    #[test]
    fn simulate_takes_draft_settings() {
        let doc = document();
        let settings = doc
            .pointer("/components/schemas/SimulateRequest/properties/settings")
            .unwrap()
            .to_string();
        assert!(settings.contains("DraftSettings") && !settings.contains("SettingsDoc"));
        let draft = doc.pointer("/components/schemas/DraftSettings").unwrap();
        assert_eq!(
            draft["properties"]["live_reply_timeout_seconds"]["maximum"],
            u32::MAX
        );
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(
                doc.pointer(&format!("/components/schemas/{name}"))
                    .is_some(),
                "no schema {name}"
            );
        }
    }
}
