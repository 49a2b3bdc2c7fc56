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
        let host_signals = HostSignals::block();
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

/// The host's signals (SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1 …) blocked on the calling thread
/// while this lives, so the threads it starts never take them. A process-directed signal goes to
/// a thread that does not block it: one of the server's threads would otherwise receive the
/// signals a host such as a Swoole master reads from a `signalfd` (with them blocked on its own
/// thread only), and the signal's default action would end the process. Faults (SIGSEGV, SIGBUS,
/// SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS) stay unblocked: they belong to the thread that
/// raises them.
struct HostSignals {
    previous: libc::sigset_t,
}

impl HostSignals {
    fn block() -> Self {
        // SAFETY: sigset manipulation on stack values; pthread_sigmask changes only the calling
        // thread's mask.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut previous: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&raw mut set);
            for fault in [
                libc::SIGSEGV,
                libc::SIGBUS,
                libc::SIGFPE,
                libc::SIGILL,
                libc::SIGTRAP,
                libc::SIGABRT,
                libc::SIGSYS,
            ] {
                libc::sigdelset(&raw mut set, fault);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, &raw mut previous);
            HostSignals { previous }
        }
    }
}

impl Drop for HostSignals {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `block` on the same thread.
        unsafe {
            libc::pthread_sigmask(
                libc::SIG_SETMASK,
                &raw const self.previous,
                std::ptr::null_mut(),
            );
        }
    }
}
