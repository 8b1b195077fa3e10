//! `<service> healthcheck [--ready]`: the binary probes its own `/health` (or, with `--ready`,
//! `/ready`: what a compose `depends_on` should wait for) and exits 0 when it answers 200,
//! 1 otherwise. Container runtimes (a Dockerfile `HEALTHCHECK`, compose's `healthcheck`) run it,
//! so an image needs no shell or curl. Plain HTTP/1.1 over a blocking socket: no runtime, no
//! client, nothing to configure but the address the service binds (`BIND_ADDR`).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use crate::config::EnvReader;
use crate::fleet;

/// How long the probe waits for each step (connect, send, answer).
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// Runs the probe for `service` with the process environment: exit 0 when `/health` (with
/// `--ready` in `args`, `/ready`) answers 200.
pub fn run(service: &str, args: &[String]) -> ExitCode {
    let path = if args.iter().any(|a| a == "--ready") { crate::health::READY } else { crate::health::HEALTH };
    let Some(spec) = fleet::spec(service) else {
        eprintln!("{service} healthcheck: not a fleet service");
        return ExitCode::FAILURE;
    };
    let mut env = EnvReader::from_env();
    let bind = env.parse(&settings::shared::BIND_ADDR).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], spec.port)));
    match probe_path(bind, path, TIMEOUT) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("{service} healthcheck: {why}");
            ExitCode::FAILURE
        }
    }
}

/// Where to reach a service bound to `bind`: a wildcard bind is reached on loopback.
pub fn target(bind: SocketAddr) -> SocketAddr {
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, bind.port())
}

/// `GET /health` on the service bound to `bind`; `Err` says why it is not healthy.
pub fn probe(bind: SocketAddr, timeout: Duration) -> Result<(), String> {
    probe_path(bind, crate::health::HEALTH, timeout)
}

/// `GET <path>` on the service bound to `bind`; `Err` says why it did not answer 200.
pub fn probe_path(bind: SocketAddr, path: &str, timeout: Duration) -> Result<(), String> {
    let target = target(bind);
    let mut stream =
        TcpStream::connect_timeout(&target, timeout).map_err(|error| format!("cannot connect to {target}: {error}"))?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: healthcheck\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .map_err(|error| format!("cannot ask {target}: {error}"))?;
    // The status line is all that matters; read at most a little.
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(error) => return Err(format!("no answer from {target}: {error}")),
        }
    }
    let line = String::from_utf8_lossy(&head[..read]);
    let status = line.split_whitespace().nth(1).unwrap_or("");
    if line.starts_with("HTTP/1.") && status == "200" {
        Ok(())
    } else {
        Err(format!("{target} answered {:?}", line.lines().next().unwrap_or("")))
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    /// A one-shot HTTP server answering `status_line`.
    fn server(status_line: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((mut socket, _)) = listener.accept() {
                let mut request = [0u8; 256];
                let read = socket.read(&mut request).unwrap_or(0);
                assert!(request[..read].starts_with(b"GET /health HTTP/1.1\r\n"));
                let _ = socket.write_all(format!("{status_line}\r\ncontent-length: 2\r\n\r\nok").as_bytes());
            }
        });
        addr
    }

    #[test]
    fn a_200_is_healthy_and_anything_else_or_nothing_is_not() {
        assert_eq!(probe(server("HTTP/1.1 200 OK"), TIMEOUT), Ok(()));
        let refused = probe(server("HTTP/1.1 503 Service Unavailable"), TIMEOUT).unwrap_err();
        assert!(refused.contains("503"), "{refused}");
        let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        assert!(probe(closed, Duration::from_millis(500)).unwrap_err().contains("cannot connect"));
    }

    #[test]
    fn a_wildcard_bind_is_probed_on_loopback() {
        assert_eq!(target("0.0.0.0:8001".parse().unwrap()), "127.0.0.1:8001".parse().unwrap());
        assert_eq!(target("[::]:8001".parse().unwrap()), "[::1]:8001".parse().unwrap());
        assert_eq!(target("10.0.0.7:8001".parse().unwrap()), "10.0.0.7:8001".parse().unwrap());
    }
}
