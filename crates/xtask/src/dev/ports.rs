//! Loopback ports for a fleet: the ones handed to its processes are held back from every later
//! listener of this process that lets the kernel choose (the storefront receiver, the compose
//! test's mail catcher), so none takes a port before the service it was handed to binds it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::sync::Mutex;

use service_kit::SERVICES;

/// The ports [`free_ports`] handed out in this process.
static RESERVED: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// Distinct free ports for a throwaway fleet: one per service plus PostgreSQL, Redis, NGINX and
/// S3, all held at once while choosing so that none is handed out twice, and reserved.
pub(crate) fn free_ports() -> (BTreeMap<&'static str, u16>, [u16; 4]) {
    let listeners: Vec<TcpListener> =
        (0..SERVICES.len() + 4).map(|_| TcpListener::bind("127.0.0.1:0").expect("bind")).collect();
    let ports: Vec<u16> = listeners.iter().map(|l| l.local_addr().expect("addr").port()).collect();
    RESERVED.lock().expect("reserved ports").extend(&ports);
    let services = SERVICES.iter().zip(&ports).map(|(spec, port)| (spec.name, *port)).collect();
    let n = SERVICES.len();
    (services, [ports[n], ports[n + 1], ports[n + 2], ports[n + 3]])
}

/// A listener on a loopback port of the kernel's choosing that no fleet of this process was
/// handed.
pub(crate) fn listen_unreserved() -> std::io::Result<TcpListener> {
    // Refused listeners stay open until one fits, so the kernel offers another port each time.
    let mut refused = Vec::new();
    loop {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        if !RESERVED.lock().expect("reserved ports").contains(&listener.local_addr()?.port()) {
            return Ok(listener);
        }
        refused.push(listener);
    }
}

/// A free loopback port no fleet of this process was handed (for a process started later).
pub(crate) fn unreserved_port() -> std::io::Result<u16> {
    Ok(listen_unreserved()?.local_addr()?.port())
}
