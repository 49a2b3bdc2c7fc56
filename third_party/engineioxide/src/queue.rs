//! A bounded, single-consumer packet queue that holds no memory while it is empty.
//!
//! PATCH (rust-echo, docs/adr/0011): replaces the per-socket `tokio::sync::mpsc::channel`.
//! tokio's bounded channel allocates its shared state plus a first block of 32 slots
//! (32 × `size_of::<PacketBuf>()`, about 5 KiB) when the socket is created, and keeps blocks
//! that a burst added, so an idle socket pays for its busiest moment. This queue has the same
//! bound, `try_send` / `try_reserve` / `recv` / `close` semantics, but stores packets in a
//! `VecDeque` that is released each time the consumer drains it: an idle socket holds one small
//! `Arc` and nothing else. It also holds the socket's one volatile slot (the latest volatile
//! packet, overwritten by the next), which was a separate `tokio::sync::watch` channel (about
//! 500 bytes per socket). The lock is a short `std::sync::Mutex` section (never held across an
//! await); the consumer's waker is woken outside it.

use std::{
    collections::VecDeque,
    future::poll_fn,
    sync::{Arc, Mutex, MutexGuard},
    task::{Context, Poll, Waker},
};

use tokio::sync::{Notify, mpsc::error::TrySendError};

/// How many packets an entry of the queue stands for, as its bound counts them.
///
/// PATCH (rust-echo, docs/adr/0013): an entry may carry a run of messages; the bound still
/// counts packets, not entries.
pub(crate) trait Weighed {
    fn weight(&self) -> usize {
        1
    }
}

struct State<T> {
    items: VecDeque<T>,
    /// The packets `items` stand for (PATCH, docs/adr/0013).
    queued: usize,
    /// Slots promised to outstanding [`Permit`]s; they count against the bound.
    reserved: usize,
    /// Packets of the batch the consumer took last with [`Receiver::take_queued`] and may still
    /// be writing; they count against the bound until the consumer takes again, as a packet
    /// taken alone did (PATCH, docs/adr/0012).
    taken: usize,
    closed: bool,
    /// Set when the session ends: the consumer stops once the queue is drained, although
    /// the queue stays open until the consumer closes it (PATCH, docs/adr/0012).
    interrupted: bool,
    /// The latest volatile packet not yet taken; a new one replaces it.
    volatile: Option<T>,
    rx_waker: Option<Waker>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Wakes every [`Sender::closed`] waiter once the queue closes.
    closed: Notify,
    bound: usize,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic while holding this lock cannot leave the state inconsistent (every section
        // is a single push/pop/flag update), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The packets the queue has room for in `state`: the bound less what is queued, reserved
    /// and taken (PATCH, docs/adr/0013).
    fn room(&self, state: &State<T>) -> usize {
        self.bound
            .saturating_sub(state.queued + state.reserved + state.taken)
    }

    fn close(&self) {
        let waker = {
            let mut state = self.lock();
            state.closed = true;
            state.rx_waker.take()
        };
        self.closed.notify_waiters();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T: Weighed> Shared<T> {
    /// Pushes `item` and wakes the consumer. Returns the item back if the queue is closed.
    fn push(&self, item: T, reserved: bool) -> Result<(), T> {
        let waker = {
            let mut state = self.lock();
            if reserved {
                state.reserved -= 1;
            }
            if state.closed && !reserved {
                return Err(item);
            }
            state.queued += item.weight();
            state.items.push_back(item);
            state.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }
}

/// Creates a queue holding at most `bound` packets (queued plus reserved).
pub(crate) fn channel<T: Weighed>(bound: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            queued: 0,
            reserved: 0,
            taken: 0,
            closed: false,
            interrupted: false,
            volatile: None,
            rx_waker: None,
        }),
        closed: Notify::new(),
        bound,
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

/// The producing half, shared by every emitter of one socket.
pub(crate) struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A slot held in the queue; sending through it cannot fail for want of space.
pub(crate) struct Permit<'a, T> {
    shared: &'a Shared<T>,
    sent: bool,
}

impl<T: Weighed> Sender<T> {
    /// Asks the CPU to load the queue's lock and state into its cache ahead of a send.
    #[inline]
    pub fn prefetch(&self) {
        crate::prefetch::line(&self.shared.state);
    }

    /// Queues `item` unless the queue is closed or has no room for all the packets it stands
    /// for.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let weight = item.weight();
        let waker = {
            let mut state = self.shared.lock();
            if state.closed {
                return Err(TrySendError::Closed(item));
            }
            if weight > self.shared.room(&state) {
                return Err(TrySendError::Full(item));
            }
            state.queued += weight;
            state.items.push_back(item);
            state.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Queues `item` past the bound (still not once closed): for the one control packet
    /// (the upgrade's NOOP) that must not wait for room.
    pub fn send_unbounded(&self, item: T) -> Result<(), T> {
        self.shared.push(item, false)
    }

    /// How many packets the queue has room for now (PATCH, docs/adr/0013).
    pub fn room(&self) -> usize {
        self.shared.room(&self.shared.lock())
    }

    /// Reserves one slot, as `tokio::sync::mpsc::Sender::try_reserve`.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        let mut state = self.shared.lock();
        if state.closed {
            return Err(TrySendError::Closed(()));
        }
        if self.shared.room(&state) == 0 {
            return Err(TrySendError::Full(()));
        }
        state.reserved += 1;
        Ok(Permit {
            shared: &self.shared,
            sent: false,
        })
    }

    /// Tells the consumer to stop once it has taken what is queued: `recv_any` returns `None`
    /// when the queue is empty from now on. Sends are still accepted until the consumer closes
    /// the queue.
    ///
    /// PATCH (rust-echo, docs/adr/0012): the session's end reaches the websocket writer through
    /// the queue it waits on; the writer no longer polls the session's cancellation token on
    /// every wait (a cache miss on the token's node for each batch of deliveries).
    pub fn interrupt(&self) {
        let waker = {
            let mut state = self.shared.lock();
            state.interrupted = true;
            state.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Puts `item` in the volatile slot, replacing one not yet taken; `false` once closed.
    pub fn set_volatile(&self, item: T) -> bool {
        let waker = {
            let mut state = self.shared.lock();
            if state.closed {
                return false;
            }
            state.volatile = Some(item);
            state.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }

    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// Resolves once the queue is closed.
    pub async fn closed(&self) {
        loop {
            let notified = self.shared.closed.notified();
            tokio::pin!(notified);
            // Registered before the check, so a close in between is not missed.
            notified.as_mut().enable();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl<T: Weighed> Permit<'_, T> {
    /// Queues `item` in the reserved slot (even after the queue closed, as tokio's permits do).
    pub fn send(mut self, item: T) {
        self.sent = true;
        // A reserved push never fails.
        let _ = self.shared.push(item, true);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        if !self.sent {
            self.shared.lock().reserved -= 1;
        }
    }
}

/// The consuming half: one transport task at a time holds it (behind the socket's lock).
pub(crate) struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Weighed> Receiver<T> {
    /// The next queued packet, else the volatile one; `None` once closed and drained (a
    /// volatile packet left then is dropped).
    pub fn poll_recv_any(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = self.shared.lock();
        // The consumer is past the batch it took last.
        state.taken = 0;
        if let Some(item) = Self::pop(&mut state) {
            // The entry counts against the bound while the consumer writes it, as a batch
            // does: a run may stand for many packets (PATCH, docs/adr/0013).
            state.taken = item.weight();
            return Poll::Ready(Some(item));
        }
        if state.closed || state.interrupted {
            return Poll::Ready(None);
        }
        if let Some(item) = state.volatile.take() {
            return Poll::Ready(Some(item));
        }
        match &state.rx_waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => state.rx_waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    pub async fn recv_any(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv_any(cx)).await
    }

    /// The next packet if one is queued.
    #[cfg(test)]
    pub fn try_recv(&mut self) -> Option<T> {
        Self::pop(&mut self.shared.lock())
    }

    /// Every queued packet, in order, taken in one lock (not the volatile one). The storage
    /// moves to the caller, so the queue holds none until the next send. The packets count
    /// against the bound until the next `take_queued` or `recv_any`, by which time the caller
    /// has written them.
    pub fn take_queued(&mut self) -> VecDeque<T> {
        let mut state = self.shared.lock();
        let items = std::mem::take(&mut state.items);
        state.taken = std::mem::take(&mut state.queued);
        items
    }

    /// Puts `item` back at the front of the queue, to be received next: an entry a transport
    /// took but did not send (PATCH, docs/adr/0013).
    pub fn put_back(&mut self, item: T) {
        let mut state = self.shared.lock();
        state.queued += item.weight();
        state.items.push_front(item);
    }

    /// Refuses further sends; queued packets can still be received.
    pub fn close(&mut self) {
        self.shared.close();
    }

    /// Pops the front packet and releases the storage once the queue is empty, so an idle
    /// socket keeps no buffer from its last burst.
    fn pop(state: &mut State<T>) -> Option<T> {
        let item = state.items.pop_front()?;
        state.queued -= item.weight();
        if state.items.is_empty() {
            state.items = VecDeque::new();
        }
        Some(item)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::{future::Future, pin::Pin, pin::pin, task::Poll};

    use futures_util::FutureExt;

    use super::*;

    impl Weighed for u32 {}

    /// An entry standing for `.0` packets.
    #[derive(Debug, PartialEq)]
    struct Run(usize);

    impl Weighed for Run {
        fn weight(&self) -> usize {
            self.0
        }
    }

    fn poll_once<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn the_bound_counts_queued_and_reserved_packets() {
        let (tx, mut rx) = channel::<u32>(2);
        tx.try_send(1).unwrap();
        let permit = tx.try_reserve().unwrap();
        assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
        assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
        permit.send(2);
        assert_eq!(rx.try_recv(), Some(1));
        assert_eq!(rx.try_recv(), Some(2));
        assert_eq!(rx.try_recv(), None);
        // A dropped permit gives its slot back.
        drop(tx.try_reserve().unwrap());
        tx.try_send(4).unwrap();
        tx.try_send(5).unwrap();
        assert!(matches!(tx.try_send(6), Err(TrySendError::Full(6))));
    }

    #[test]
    fn the_bound_counts_the_packets_an_entry_stands_for() {
        let (tx, mut rx) = channel::<Run>(5);
        tx.try_send(Run(3)).unwrap();
        // Two packets of room left: a run of three does not fit, whole or in part.
        assert!(matches!(
            tx.try_send(Run(3)),
            Err(TrySendError::Full(Run(3)))
        ));
        tx.try_send(Run(2)).unwrap();
        assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
        assert_eq!(rx.try_recv(), Some(Run(3)));
        // The popped run's packets are free again.
        tx.try_send(Run(3)).unwrap();
        // A batch taken counts as the packets it holds until the next take.
        assert_eq!(rx.take_queued().len(), 2);
        assert!(matches!(
            tx.try_send(Run(1)),
            Err(TrySendError::Full(Run(1)))
        ));
        assert!(rx.take_queued().is_empty());
        tx.try_send(Run(5)).unwrap();
        assert!(matches!(
            tx.try_send(Run(1)),
            Err(TrySendError::Full(Run(1)))
        ));
    }

    #[test]
    fn an_entry_received_counts_until_the_next_receive() {
        let (tx, mut rx) = channel::<Run>(4);
        tx.try_send(Run(3)).unwrap();
        assert_eq!(rx.recv_any().now_or_never(), Some(Some(Run(3))));
        // Being written: three of four packets are still taken.
        assert_eq!(tx.room(), 1);
        assert!(matches!(
            tx.try_send(Run(2)),
            Err(TrySendError::Full(Run(2)))
        ));
        tx.try_send(Run(1)).unwrap();
        assert_eq!(rx.recv_any().now_or_never(), Some(Some(Run(1))));
        assert_eq!(tx.room(), 3);
        assert_eq!(rx.recv_any().now_or_never(), None);
        assert_eq!(tx.room(), 4);
    }

    #[test]
    fn an_entry_put_back_is_received_first_and_counted() {
        let (tx, mut rx) = channel::<Run>(4);
        tx.try_send(Run(1)).unwrap();
        rx.put_back(Run(2));
        assert_eq!(tx.room(), 1);
        assert_eq!(rx.try_recv(), Some(Run(2)));
        assert_eq!(rx.try_recv(), Some(Run(1)));
    }

    #[test]
    fn an_empty_queue_holds_no_storage() {
        let (tx, mut rx) = channel::<u32>(128);
        assert_eq!(rx.shared.lock().items.capacity(), 0);
        for i in 0..100 {
            tx.try_send(i).unwrap();
        }
        for i in 0..100 {
            assert_eq!(rx.try_recv(), Some(i));
        }
        assert_eq!(rx.shared.lock().items.capacity(), 0);
    }

    #[test]
    fn a_closed_queue_refuses_sends_and_drains_what_it_holds() {
        let (tx, mut rx) = channel::<u32>(4);
        tx.try_send(1).unwrap();
        let permit = tx.try_reserve().unwrap();
        rx.close();
        assert!(tx.is_closed());
        assert!(matches!(tx.try_send(2), Err(TrySendError::Closed(2))));
        assert!(matches!(tx.try_reserve(), Err(TrySendError::Closed(()))));
        assert_eq!(tx.send_unbounded(3), Err(3));
        permit.send(4);
        assert_eq!(rx.recv_any().now_or_never(), Some(Some(1)));
        assert_eq!(rx.recv_any().now_or_never(), Some(Some(4)));
        assert_eq!(rx.recv_any().now_or_never(), Some(None));
    }

    #[test]
    fn take_queued_takes_everything_in_order_and_leaves_no_storage() {
        let (tx, mut rx) = channel::<u32>(8);
        assert!(tx.set_volatile(9));
        for i in 0..5 {
            tx.try_send(i).unwrap();
        }
        let taken: Vec<u32> = rx.take_queued().into_iter().collect();
        assert_eq!(taken, [0, 1, 2, 3, 4]);
        assert_eq!(rx.shared.lock().items.capacity(), 0);
        // The batch being written still counts against the bound.
        for i in 5..8 {
            tx.try_send(i).unwrap();
        }
        assert!(matches!(tx.try_send(8), Err(TrySendError::Full(8))));
        let taken: Vec<u32> = rx.take_queued().into_iter().collect();
        assert_eq!(taken, [5, 6, 7]);
        // The volatile packet stays for `recv_any`, which frees the last batch's slots.
        assert!(rx.take_queued().is_empty());
        assert_eq!(rx.recv_any().now_or_never(), Some(Some(9)));
        for i in 0..8 {
            tx.try_send(i).unwrap();
        }
        assert!(matches!(tx.try_send(8), Err(TrySendError::Full(8))));
    }

    #[test]
    fn an_interrupted_queue_is_drained_then_ends_but_stays_open() {
        let (tx, mut rx) = channel::<u32>(4);
        tx.try_send(1).unwrap();
        tx.interrupt();
        assert_eq!(rx.recv_any().now_or_never(), Some(Some(1)));
        assert_eq!(rx.recv_any().now_or_never(), Some(None));
        // Open until the consumer closes it.
        assert!(!tx.is_closed());
        tx.try_send(2).unwrap();
        rx.close();
        assert!(tx.is_closed());
    }

    #[tokio::test]
    async fn interrupt_wakes_a_waiting_consumer() {
        let (tx, mut rx) = channel::<u32>(4);
        let mut recv = pin!(rx.recv_any());
        assert_eq!(poll_once(recv.as_mut()), Poll::Pending);
        tx.interrupt();
        assert_eq!(recv.await, None);
    }

    #[test]
    fn send_unbounded_passes_a_full_queue() {
        let (tx, mut rx) = channel::<u32>(1);
        tx.try_send(1).unwrap();
        tx.send_unbounded(2).unwrap();
        assert_eq!(rx.try_recv(), Some(1));
        assert_eq!(rx.try_recv(), Some(2));
    }

    #[test]
    fn the_volatile_slot_keeps_the_latest_and_yields_to_queued_packets() {
        let (tx, mut rx) = channel::<u32>(4);
        assert!(tx.set_volatile(1));
        assert!(tx.set_volatile(2));
        tx.try_send(3).unwrap();
        assert_eq!(rx.recv_any().now_or_never(), Some(Some(3)));
        assert_eq!(rx.recv_any().now_or_never(), Some(Some(2)));
        assert_eq!(rx.recv_any().now_or_never(), None);
        // `recv` and `try_recv` see only queued packets.
        assert!(tx.set_volatile(4));
        assert_eq!(rx.try_recv(), None);
        rx.close();
        assert!(!tx.set_volatile(5));
        assert_eq!(rx.recv_any().now_or_never(), Some(None));
    }

    #[tokio::test]
    async fn recv_waits_for_a_send_and_closed_for_a_close() {
        let (tx, mut rx) = channel::<u32>(4);
        {
            let mut recv = pin!(rx.recv_any());
            assert_eq!(poll_once(recv.as_mut()), Poll::Pending);
            tx.try_send(7).unwrap();
            assert_eq!(recv.await, Some(7));
        }
        let mut closed = pin!(tx.closed());
        assert_eq!(poll_once(closed.as_mut()), Poll::Pending);
        rx.close();
        closed.await;
    }
}
