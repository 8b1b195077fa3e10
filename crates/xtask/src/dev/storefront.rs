//! A stand-in for the storefront's on-demand revalidation route (Next.js `/api/revalidate`),
//! so that `cargo xtask up` and the fleet walk can see the cms announce each publication: it
//! checks the shared secret, appends each call as a JSON line to `<run>/storefront/
//! revalidations.log`, prints it when logs are echoed, and answers 200 (401 for a wrong secret).
//! Plain blocking HTTP/1.1 on a thread: one small request at a time is all it ever gets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};

/// The receiver's address and the secret the cms must present.
#[derive(Clone, Debug)]
pub(crate) struct Receiver {
    pub url: String,
    pub secret: String,
    pub log: PathBuf,
}

/// Starts the receiver on a free loopback port for the life of the process.
pub(crate) fn start(run_dir: &Path, echo: bool) -> anyhow::Result<Receiver> {
    let dir = run_dir.join("storefront");
    std::fs::create_dir_all(&dir)?;
    let log = dir.join("revalidations.log");
    let listener = crate::dev::ports::listen_unreserved()?;
    let url = format!("http://{}/api/revalidate", listener.local_addr()?);
    let secret: String = {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::from_os_rng();
        (0..32).map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.random_range(0..36)])).collect()
    };
    let (expected, path) = (format!("Bearer {secret}"), log.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Err(error) = answer(stream, &expected, &path, echo) {
                eprintln!("storefront receiver: {error}");
            }
        }
    });
    Ok(Receiver { url, secret, log })
}

fn answer(stream: TcpStream, expected: &str, log: &Path, echo: bool) -> anyhow::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let (mut length, mut authorized) = (0usize, false);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((&header, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap_or(0).min(1 << 20),
            "authorization" => authorized = value.trim() == expected,
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let status = if !line.starts_with("POST /api/revalidate ") {
        "404 Not Found"
    } else if !authorized {
        "401 Unauthorized"
    } else {
        let body = String::from_utf8_lossy(&body).replace('\n', " ");
        if echo {
            println!("storefront | revalidate {body}");
        }
        std::fs::OpenOptions::new().create(true).append(true).open(log)?.write_all(format!("{body}\n").as_bytes())?;
        "200 OK"
    };
    let reply = "{\"revalidated\":true}";
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
        reply.len()
    )?;
    Ok(())
}

/// The calls received so far, each a JSON value.
pub(crate) fn received(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}
