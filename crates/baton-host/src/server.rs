//! The accept loop under the router: hyper's HTTP/1 connection builder with a timer, so a
//! client that trickles its headers is cut off (`axum::serve` sets no header-read
//! timeout), and a cap on open connections. Each request carries its client's address
//! (`ConnectInfo`) for the rate limits and sign-in: the peer's, as `axum::serve` gave
//! it, or behind a trusted proxy the one its `X-Forwarded-For` names (port 0).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::Service;

use crate::limits::LimitsConfig;

/// Serves `app` on `listener` until `shutdown` resolves, then lets the open connections
/// finish their requests.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: &LimitsConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout())
        .keep_alive(true);
    // Checked with the rest of the configuration at start.
    let proxies = Arc::new(limits.proxies().unwrap_or_default());
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // At the cap, stop accepting: new clients wait in the kernel's backlog rather than
        // cost memory here.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or the peer left before accept: wait a
                    // little rather than spin, as axum::serve does.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let proxies = proxies.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            let client = proxies.client(peer.ip(), request.headers());
            let client = if client == peer.ip() {
                peer
            } else {
                SocketAddr::new(client, 0)
            };
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(client));
            let mut app = app.clone();
            async move { app.call(request).await }
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
