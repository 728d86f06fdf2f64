//! The HTTP listener with the bounds `axum::serve` does not set: a deadline for a request's
//! headers (which is also how long an idle keep-alive connection is kept), caps on
//! concurrent connections per client address and in total, and a graceful shutdown that
//! stops accepting first. A connection past a cap is closed at once and counted in
//! `/metrics`; upgraded connections (socket.io, `/subscribe`) are bounded by the caps only.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::jobs::Jobs;

/// The listener's bounds (`serve --header-timeout`, `--max-connections`,
/// `--max-connections-per-client`).
#[derive(Debug, Clone)]
pub struct Bounds {
    /// A request's headers must arrive within this; an idle keep-alive connection is
    /// closed after it.
    pub header_timeout: Duration,
    /// Open connections from one client address.
    pub per_client: usize,
    /// Open connections in all.
    pub total: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { header_timeout: Duration::from_secs(10), per_client: 256, total: 4096 }
    }
}

/// Open connections, by client address.
#[derive(Default)]
struct Open {
    by_addr: HashMap<IpAddr, usize>,
    total: usize,
}

/// Admission against the caps; a [`Slot`] holds one connection's place.
struct Admission {
    bounds: Bounds,
    open: Mutex<Open>,
}

struct Slot {
    admission: Arc<Admission>,
    addr: IpAddr,
}

impl Admission {
    fn admit(self: &Arc<Self>, addr: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mine = open.by_addr.get(&addr).copied().unwrap_or(0);
        if open.total >= self.bounds.total || mine >= self.bounds.per_client {
            return None;
        }
        open.total += 1;
        open.by_addr.insert(addr, mine + 1);
        Some(Slot { admission: self.clone(), addr })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.admission.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.total -= 1;
        if let Some(n) = open.by_addr.get_mut(&self.addr) {
            *n -= 1;
            if *n == 0 {
                open.by_addr.remove(&self.addr);
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets
/// open requests finish and returns once every connection has closed.
pub async fn serve(listener: TcpListener, router: Router, bounds: Bounds, jobs: Jobs, shutdown: impl Future<Output = ()> + Send + 'static) {
    let admission = Arc::new(Admission { bounds: bounds.clone(), open: Mutex::default() });
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let mut stopping = stop_rx.clone();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stopping) => break,
        };
        let Some(slot) = admission.admit(peer.ip()) else {
            jobs.connection_refused();
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(router.clone().map_request(|req: axum::http::Request<Incoming>| req.map(Body::new)));
        let mut stop = stop_rx.clone();
        let header_timeout = bounds.header_timeout;
        tokio::spawn(async move {
            let mut builder = Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout);
            builder.http2().timer(TokioTimer::new());
            let mut conn = pin!(builder.serve_connection_with_upgrades(TokioIo::new(stream), service));
            let mut stopping_conn = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "connection ended");
                        }
                        break;
                    }
                    () = stopped(&mut stop), if !stopping_conn => {
                        stopping_conn = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(slot);
        });
    }
}

/// Resolves once shutdown began (the watch's guard is not held across an await).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await.map(|_| ());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caps_admit_per_address_and_in_total_and_free_on_drop() {
        let a = Arc::new(Admission { bounds: Bounds { per_client: 2, total: 3, ..Bounds::default() }, open: Mutex::default() });
        let (x, y): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = a.admit(x).unwrap();
        let _second = a.admit(x).unwrap();
        assert!(a.admit(x).is_none(), "past the per-client cap");
        let _third = a.admit(y).unwrap();
        assert!(a.admit(y).is_none(), "past the total cap");
        drop(first);
        assert!(a.admit(x).is_some(), "a closed connection frees its place");
    }
}
