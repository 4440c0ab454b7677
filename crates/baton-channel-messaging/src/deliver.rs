//! Delivery of outbox messages on a messaging channel: the plugin formats the provider's
//! request, the host sends it, and the plugin reads the answer (sent, retry, failed).

use std::time::Duration;

use async_trait::async_trait;
use baton_engine::model::OutboxItem;
use baton_engine::{Deliverer, Delivery};
use baton_plugin_host::{Channel, HttpResponse, OutboundMessage, OutboundRequest};

use crate::PLUGIN_TIMEOUT;

/// How long the provider may take to answer one request.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Sends one channel's outbox through its plugin.
#[derive(Debug, Clone)]
pub struct ProviderDeliverer {
    channel: Channel,
    client: reqwest::Client,
}

impl ProviderDeliverer {
    pub fn new(channel: Channel, client: reqwest::Client) -> Self {
        ProviderDeliverer { channel, client }
    }

    async fn send(&self, request: OutboundRequest) -> HttpResponse {
        let Ok(method) = reqwest::Method::from_bytes(request.method.as_bytes()) else {
            return HttpResponse {
                status: 0,
                headers: Vec::new(),
                body: format!("the plugin asked for method {:?}", request.method),
            };
        };
        let mut builder = self
            .client
            .request(method, &request.url)
            .timeout(HTTP_TIMEOUT)
            .body(request.body);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        match builder.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let headers = response
                    .headers()
                    .iter()
                    .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                    .collect();
                let body = response.text().await.unwrap_or_default();
                HttpResponse {
                    status,
                    headers,
                    body,
                }
            }
            // No answer at all: the plugin's reading of status 0 decides (a retry).
            Err(error) => HttpResponse {
                status: 0,
                headers: Vec::new(),
                body: error.to_string(),
            },
        }
    }
}

#[async_trait]
impl Deliverer for ProviderDeliverer {
    async fn deliver(&self, item: &OutboxItem) -> Delivery {
        let Some(thread) = item.thread.clone() else {
            return Delivery::Failed {
                reason: "the conversation has no provider thread".into(),
            };
        };
        let message = OutboundMessage {
            thread,
            text: item.message.text.clone(),
            in_reply_to: None,
        };
        let request = match self.channel.outbound(&message, PLUGIN_TIMEOUT).await {
            Ok(request) => request,
            // A plugin that cannot format now (panic, timeout) may after a restart
            // or a fix: retry, with backoff.
            Err(error) => {
                return Delivery::Retry {
                    after: None,
                    reason: format!("formatting failed: {error}"),
                };
            }
        };
        let response = self.send(request).await;
        match self.channel.delivery(&response, PLUGIN_TIMEOUT).await {
            Ok(baton_plugin_host::Delivery::Sent) => Delivery::Sent,
            Ok(baton_plugin_host::Delivery::Retry {
                after_seconds,
                reason,
            }) => Delivery::Retry {
                after: after_seconds.map(Duration::from_secs),
                reason,
            },
            Ok(baton_plugin_host::Delivery::Failed { reason }) => Delivery::Failed { reason },
            Err(error) => Delivery::Retry {
                after: None,
                reason: format!("reading the answer failed: {error}"),
            },
        }
    }
}
