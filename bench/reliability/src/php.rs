//! PHP processes with the release extension loaded, driven line by line over their standard
//! input and output: publishers that host the server or publish over the ring.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::harness::Env;

/// A running PHP script; killed when dropped.
pub struct Php {
    name: String,
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Php {
    /// `php -d extension=<release .so> <script> args…` with `env` added.
    pub fn spawn(
        env: &Env,
        script: &str,
        args: &[String],
        vars: &[(&str, &str)],
    ) -> Result<Php, String> {
        let ext = env.ext();
        let tag: Vec<&str> = args.iter().take(2).map(String::as_str).collect();
        let log = env.out.join(format!("php-{script}-{}.log", tag.join("-")));
        let err = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut child = Command::new("php")
            .arg("-d")
            .arg(format!("extension={}", ext.display()))
            .arg(env.php_script(script))
            .args(args)
            .envs(vars.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start php {script}: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        Ok(Php {
            name: format!("php {script} {}", args.join(" ")),
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
        })
    }

    /// Send one line.
    pub async fn send(&mut self, line: &str) -> Result<(), String> {
        let text = format!("{line}\n");
        self.stdin
            .write_all(text.as_bytes())
            .await
            .map_err(|e| format!("{}: {e}", self.name))
    }

    /// The next line, within `within`; an `error …` line or the end of output is an error.
    pub async fn line(&mut self, within: Duration) -> Result<String, String> {
        match tokio::time::timeout(within, self.lines.next_line()).await {
            Err(_) => Err(format!("{}: nothing printed within {within:?}", self.name)),
            Ok(Err(e)) => Err(format!("{}: {e}", self.name)),
            Ok(Ok(None)) => Err(format!(
                "{}: exited ({:?})",
                self.name,
                self.child.try_wait()
            )),
            Ok(Ok(Some(l))) if l.starts_with("error") => Err(format!("{}: {l}", self.name)),
            Ok(Ok(Some(l))) => Ok(l),
        }
    }

    /// Send `stop` and wait up to 10 s for the process to exit on its own (a hosted server then
    /// stops cleanly and removes its ring); it is killed otherwise.
    pub async fn finish(mut self) {
        if self.send("stop").await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        }
    }

    /// Wait for a line starting with `prefix`, skipping others.
    pub async fn expect(&mut self, prefix: &str, within: Duration) -> Result<String, String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let l = self.line(left).await?;
            if l.starts_with(prefix) {
                return Ok(l);
            }
        }
    }
}
