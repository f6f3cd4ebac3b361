//! Servers of a test's own, on free loopback ports, that a test may kill
//! and start again: Redis (`redis-server`) and PostgreSQL (`initdb`,
//! `pg_ctl`). Never the shared ones at `REDIS_URL` and `DATABASE_URL`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A Redis of our own on a free port, killed when dropped.
pub(crate) struct OwnRedis(pub(crate) Child, pub(crate) u16);

/// A `redis-server` on loopback `port`, keeping nothing on disk unless
/// `extra` says so.
pub(crate) fn redis_server(port: u16, extra: &[&std::ffi::OsStr]) -> std::io::Result<Child> {
    Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
}

/// Whether something listens on loopback `port` within 5 s.
pub(crate) fn listening(port: u16) -> bool {
    (0..100).any(|_| {
        let up = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        if !up {
            std::thread::sleep(Duration::from_millis(50));
        }
        up
    })
}

/// Whether the Redis on loopback `port` answers `PING` within 5 s: a
/// restarted Redis listens before it has loaded its append-only file, and
/// answers `LOADING` until it has.
pub(crate) fn loaded(port: u16) -> bool {
    use std::io::{BufRead, BufReader, Write};
    (0..100).any(|_| {
        let pong = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok_and(|mut conn| {
            let mut line = String::new();
            conn.write_all(b"PING\r\n").is_ok()
                && BufReader::new(conn).read_line(&mut line).is_ok()
                && line.starts_with("+PONG")
        });
        if !pong {
            std::thread::sleep(Duration::from_millis(50));
        }
        pong
    })
}

/// A loopback port nothing listens on now.
pub(crate) fn free_port() -> Option<u16> {
    Some(
        TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port(),
    )
}

impl OwnRedis {
    pub(crate) fn start() -> Option<Self> {
        let port = free_port()?;
        let mut child = redis_server(port, &["--appendonly".as_ref(), "no".as_ref()]).ok()?;
        if listening(port) {
            return Some(OwnRedis(child, port));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A Redis with an append-only file, fsynced on every write, on `port`.
pub(crate) fn durable_redis(port: u16, dir: &std::path::Path) -> Child {
    let extra =
        ["--appendonly", "yes", "--appendfsync", "always", "--dir"].map(std::ffi::OsStr::new);
    let mut child = redis_server(port, &[&extra[..], &[dir.as_os_str()]].concat())
        .expect("redis-server starts");
    if listening(port) && loaded(port) {
        return child;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("redis-server did not listen on {port}");
}

/// A PostgreSQL of the test's own, on a free port, in a temp dir.
pub(crate) struct OwnPostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

/// Where `initdb` and `pg_ctl` are: on the PATH, or in Debian's place.
fn postgres_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>());
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|version| version.path().join("bin"));
    on_path
        .chain(debian)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

pub(crate) fn no_postgres_bin() -> Option<String> {
    postgres_bin().is_none().then(|| {
        "no initdb and pg_ctl (on the PATH or in /usr/lib/postgresql/*/bin): \
         apt-get install postgresql"
            .to_owned()
    })
}

/// Runs a PostgreSQL program, as the `postgres` user when this is root
/// (PostgreSQL refuses to run as root).
fn pg_command(bin: &Path, program: &str) -> Command {
    let path = bin.join(program);
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(path);
        command
    } else {
        Command::new(path)
    }
}

impl OwnPostgres {
    pub(crate) fn start() -> OwnPostgres {
        let bin = postgres_bin().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("jobsess-pg-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status();
        let out = pg_command(&bin, "initdb")
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(dir.join("data"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let own = OwnPostgres { dir, bin, port };
        own.up();
        own
    }

    pub(crate) fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let out = pg_command(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-o", &options, "-l"])
            .arg(self.dir.join("log"))
            .args(["-w", "start"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub(crate) fn down(&self) {
        let out = pg_command(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = pg_command(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
