//! Hosting the server in this PHP process, on a thread of its own with its own tokio runtime.
//! No thread exists until `start()` is called (never at module startup: php-fpm and `php -S`
//! load extensions in a parent that forks).

use std::sync::mpsc;
use std::thread::JoinHandle;

use rust_echo_server::{Config, Monitor, Publisher};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use crate::errors::ExtError;

/// What the PHP thread can ask of the server thread.
enum Control {
    /// Stop gracefully.
    Stop,
}

/// A server running on a thread of this process.
pub struct Hosted {
    /// The in-process publish path.
    pub publisher: Publisher,
    /// Read-only view for `stats()`.
    pub monitor: Monitor,
    control: UnboundedSender<Control>,
    done: Option<mpsc::Receiver<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Hosted {
    /// Start the server and wait until it listens (or failed to).
    pub fn spawn(config: Config) -> Result<Self, ExtError> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        let (control, mut control_rx) = unbounded_channel();
        // Every thread of the server descends from this one and inherits its signal mask.
        let host_signals = crate::signals::Blocked::all_but_faults();
        let thread = std::thread::Builder::new()
            .name("rust-echo".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("rust-echo-worker")
                    .enable_all()
                    .build();
                let runtime = match runtime {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(ExtError::Server(format!(
                            "could not start the runtime: {e}"
                        ))));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let handle = match rust_echo_server::start(config).await {
                        Ok(h) => h,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok((handle.publisher(), handle.monitor())));
                    // Any control message, or the handle being dropped, means stop.
                    let _: Option<Control> = control_rx.recv().await;
                    handle.shutdown().await;
                });
                drop(runtime);
                let _ = done_tx.send(());
            })
            .map_err(|e| ExtError::Server(format!("could not start the server thread: {e}")));
        drop(host_signals);
        let thread = thread?;
        match ready_rx.recv() {
            Ok(Ok((publisher, monitor))) => Ok(Hosted {
                publisher,
                monitor,
                control,
                done: Some(done_rx),
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(ExtError::Server(
                    "the server thread ended during start-up".to_owned(),
                ))
            }
        }
    }

    /// Whether the server thread is still running.
    pub fn alive(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// The receiver that fires once the server has shut down (taken once, by `serve()`).
    pub fn take_done(&mut self) -> Option<mpsc::Receiver<()>> {
        self.done.take()
    }

    /// Stop gracefully and wait for the thread.
    pub fn stop(mut self) {
        let _ = self.control.send(Control::Stop);
        if let Some(done) = self.done.take() {
            let _ = done.recv();
        }
        self.join();
    }

    /// Wait for the thread after it finished on its own (signal) or was stopped.
    pub fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
