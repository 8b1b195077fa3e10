//! Child processes that never outlive us: each is its own process group, and the kernel kills
//! it when its parent dies (PR_SET_PDEATHSIG), even after a panic or SIGKILL, since Rust runs no
//! destructors then. PostgreSQL refuses to run as root, so when we are root its processes run as
//! Debian's `postgres` user.
//!
//! PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, so every child is forked
//! by one long-lived spawner thread, not by whichever test thread asked first.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

type Job = (Command, mpsc::Sender<std::io::Result<Child>>);

fn spawner() -> &'static Mutex<mpsc::Sender<Job>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("testkit-spawner".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(command.spawn());
                }
                // The channel lives in a static, so this thread lives as long as the process.
            })
            .expect("start the spawner thread");
        Mutex::new(tx)
    })
}

/// The uid and gid to run PostgreSQL as: `postgres` when we are root, else ourselves.
pub fn postgres_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&"postgres"))
            .then(|| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))?
    })
}

/// Spawns `command` in its own process group, killed with SIGKILL when this process dies,
/// optionally as another user.
pub fn spawn_owned(mut command: Command, user: Option<(u32, u32)>) -> std::io::Result<Child> {
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid);
    }
    command.process_group(0);
    // SAFETY: getpid before fork, prctl and getppid after it are async-signal-safe calls.
    let parent = unsafe { libc::getpid() };
    unsafe {
        command.pre_exec(move || {
            // Runs after setuid (which would clear the setting), so it sticks.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                // The parent died between fork and prctl.
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let (tx, rx) = mpsc::channel();
    spawner().lock().expect("spawner lock").send((command, tx)).expect("spawner thread alive");
    rx.recv().expect("spawner replies")
}

/// Sends `signal` to the whole process group of `child`.
pub fn signal_group(child: &Child, signal: i32) {
    // SAFETY: kill with a negative pid addresses the process group we created.
    unsafe {
        libc::kill(-(child.id() as i32), signal);
    }
}

/// Makes `path` (and everything under it) owned by `user`, for PostgreSQL's data directory.
pub fn chown_tree(path: &std::path::Path, user: (u32, u32)) -> std::io::Result<()> {
    std::os::unix::fs::chown(path, Some(user.0), Some(user.1))?;
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), user)?;
        }
    }
    Ok(())
}
