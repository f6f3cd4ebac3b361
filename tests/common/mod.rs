//! What the tests that start the demo apps share.
#![allow(dead_code)] // each test file uses a part
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

/// A demo app this test started: the example's own binary on a free port,
/// killed when dropped.
pub struct Demo {
    child: Child,
    /// Kept open: the app may still write to it.
    _stdout: BufReader<ChildStdout>,
    pub base: String,
}

impl Demo {
    /// Starts `examples/<example>.rs`, built by `cargo test` beside the test
    /// binaries, with jobs taking `step_ms` per 10 %, and waits for its URL.
    pub fn start(example: &str, step_ms: u64, args: &[&str]) -> Demo {
        let exe = std::env::current_exe().expect("the test binary's path");
        let profile = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/<profile>");
        let bin = profile
            .join("examples")
            .join(format!("{example}{}", std::env::consts::EXE_SUFFIX));
        let mut child = Command::new(&bin)
            .args(["--port", "0", "--step-ms", &step_ms.to_string()])
            .args(args)
            .env_remove("PORT")
            .env_remove("REDIS_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|err| panic!("{} runs: {err}", bin.display()));
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the app says where it listens");
        let base = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_owned();
        Demo {
            child,
            _stdout: stdout,
            base,
        }
    }

    pub fn axum(args: &[&str]) -> Demo {
        Demo::start("axum_app", 5, args)
    }

    pub fn actix() -> Demo {
        Demo::start("actix_app", 5, &[])
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
