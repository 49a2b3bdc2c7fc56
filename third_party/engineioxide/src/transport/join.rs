//! PATCH (rust-echo, docs/adr/0011): two futures of one connection run in one task, the
//! quiet one polled only when it was woken.
//!
//! A websocket connection ran its writer in a task of its own beside the reading task: a second
//! task header, 128-byte-aligned allocation and future for the life of every connection. A
//! plain `join` in one task would poll the reading side (websocket parser, socket readiness,
//! heartbeat timer) on every wake-up of the writer, which is one per delivered packet. Here the
//! quiet side gets a waker of its own that records that it fired, so the writer's wake-ups cost
//! a flag check.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use pin_project_lite::pin_project;

/// The quiet side's waker: marks it woken, then wakes the task.
struct QuietWaker {
    woken: AtomicBool,
    /// The task's waker, kept (not taken) by a wake-up: it is set once per task, not on
    /// every poll, because an `AtomicWaker` registration on each of the writer's wake-ups
    /// (one per delivered packet) measured 5 % of a fan-out's samples.
    task: Mutex<Option<Waker>>,
}

impl Wake for QuietWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = task.as_ref() {
            task.wake_by_ref();
        }
    }
}

pin_project! {
    /// Runs `hot` and `quiet` to completion in the polling task. `hot` is polled on every
    /// wake-up; `quiet` on the first poll and then only after its own waker fired.
    ///
    /// A named future rather than an `async fn`: an `async fn` keeps its arguments and the
    /// pinned futures it moves them into side by side, doubling the size of the connection's
    /// future for its whole life.
    pub(crate) struct JoinQuiet<A, B> {
        #[pin]
        hot: A,
        #[pin]
        quiet: B,
        hot_done: bool,
        quiet_done: bool,
        flag: Arc<QuietWaker>,
        // The task waker last given to `flag`, to compare with without touching `flag`.
        registered: Option<Waker>,
    }
}

/// See [`JoinQuiet`].
pub(crate) fn join_quiet<A, B>(hot: A, quiet: B) -> JoinQuiet<A, B>
where
    A: Future<Output = ()>,
    B: Future<Output = ()>,
{
    JoinQuiet {
        hot,
        quiet,
        hot_done: false,
        quiet_done: false,
        flag: Arc::new(QuietWaker {
            woken: AtomicBool::new(true),
            task: Mutex::new(None),
        }),
        registered: None,
    }
}

impl<A, B> Future for JoinQuiet<A, B>
where
    A: Future<Output = ()>,
    B: Future<Output = ()>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if !*this.hot_done {
            *this.hot_done = this.hot.poll(cx).is_ready();
        }
        if !*this.quiet_done {
            // Set before the flag is read: a wake-up after the read wakes this task.
            if !this
                .registered
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                let mut task = this.flag.task.lock().unwrap_or_else(|e| e.into_inner());
                *task = Some(cx.waker().clone());
                *this.registered = Some(cx.waker().clone());
            }
            // A plain load first: the swap, a locked instruction, only when it fired.
            if this.flag.woken.load(Ordering::Acquire)
                && this.flag.woken.swap(false, Ordering::AcqRel)
            {
                let waker = Waker::from(this.flag.clone());
                let mut quiet_cx = Context::from_waker(&waker);
                *this.quiet_done = this.quiet.poll(&mut quiet_cx).is_ready();
            }
        }
        if *this.hot_done && *this.quiet_done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::pin::pin;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use tokio::sync::{mpsc, oneshot};

    use super::*;

    /// `fut`, counting its polls in `polls`.
    async fn counting<F: Future>(fut: F, polls: &AtomicUsize) -> F::Output {
        let mut fut = pin!(fut);
        poll_fn(|cx| {
            polls.fetch_add(1, Ordering::Relaxed);
            fut.as_mut().poll(cx)
        })
        .await
    }

    #[tokio::test]
    async fn both_sides_finish_and_the_quiet_one_is_polled_only_when_woken() {
        let (hot_tx, mut hot_rx) = mpsc::unbounded_channel::<()>();
        let (quiet_tx, quiet_rx) = oneshot::channel::<()>();
        let quiet_polls = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn({
            let (quiet_polls, received) = (quiet_polls.clone(), received.clone());
            async move {
                let hot = async {
                    while hot_rx.recv().await.is_some() {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                };
                let quiet = async {
                    let _ = counting(quiet_rx, &quiet_polls).await;
                };
                join_quiet(hot, quiet).await;
            }
        });
        for i in 1..=100 {
            hot_tx.send(()).unwrap();
            while received.load(Ordering::Relaxed) < i {
                tokio::task::yield_now().await;
            }
        }
        // The hot side was woken 100 times; the quiet side was polled once, at the start.
        assert_eq!(quiet_polls.load(Ordering::Relaxed), 1);

        quiet_tx.send(()).unwrap();
        drop(hot_tx);
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the join should finish once both sides did")
            .unwrap();
        assert_eq!(quiet_polls.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_quiet_side_woken_while_the_hot_one_runs_is_not_missed() {
        let (quiet_tx, quiet_rx) = oneshot::channel::<()>();
        let hot = async move {
            // The first poll leaves the quiet side waiting; the second wakes it from inside
            // the hot side's poll, and nothing wakes the task after that.
            tokio::task::yield_now().await;
            quiet_tx.send(()).unwrap();
        };
        let quiet = async {
            quiet_rx.await.unwrap();
        };
        tokio::time::timeout(Duration::from_secs(5), join_quiet(hot, quiet))
            .await
            .expect("the quiet side should complete");
    }
}
