//! Side-by-side measurement of the two shared-memory publish paths considered for rust-echo
//! (see docs/adr/0002-shared-memory-ring.md):
//!
//! - **attach**: what a fresh process (an FPM child, a queue worker) pays before its first
//!   message: opening the ring, or creating an iceoryx2 node, service port and publisher;
//! - **publish**: nanoseconds per message of 120 bytes while a consumer in another process drains.
//!
//! `cargo run --release` in this folder prints one table; it starts its consumers itself.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use iceoryx2::prelude::*;
use rust_echo_server::shm::{Consumer, Producer, Record};

const MESSAGES: usize = 200_000;
const ATTACHES: usize = 20;
const PAYLOAD: &str = r#"{"id":1234,"total":99.5,"socket":null,"name":"App\\Events\\OrderShipped","pad":"xxxxxxxxxxxx"}"#;
const SERVICE: &str = "rust-echo/eval";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("ring-consumer") => ring_consumer(&args[2]),
        Some("iox-consumer") => iox_consumer(),
        Some("ring-attach") => {
            let t = Instant::now();
            let mut p = Producer::new(&args[2])?;
            p.publish(&record())?;
            println!("{}", t.elapsed().as_nanos());
            Ok(())
        }
        Some("iox-attach") => {
            let t = Instant::now();
            let publisher = iox_publisher()?;
            let sample = publisher.loan_slice_uninit(PAYLOAD.len())?;
            sample.write_from_slice(PAYLOAD.as_bytes()).send()?;
            println!("{}", t.elapsed().as_nanos());
            Ok(())
        }
        _ => compare(),
    }
}

fn record() -> Record<'static> {
    Record { channels: &["orders"], event: "App\\Events\\OrderShipped", data: PAYLOAD, socket: None }
}

fn compare() -> Result<(), Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    let ring = format!("rust-echo-eval-{}", std::process::id());

    let mut consumer = spawn(&exe, &["ring-consumer", &ring])?;
    std::thread::sleep(Duration::from_millis(300));
    let ring_attach = median_attach(&exe, &["ring-attach", &ring])?;
    let mut p = Producer::new(&ring)?;
    let t = Instant::now();
    for _ in 0..MESSAGES {
        while p.publish(&record()).is_err() {
            std::hint::spin_loop();
        }
    }
    let ring_publish = t.elapsed().as_nanos() as f64 / MESSAGES as f64;
    consumer.kill()?;
    consumer.wait()?;

    let mut consumer = spawn(&exe, &["iox-consumer"])?;
    std::thread::sleep(Duration::from_millis(500));
    let iox_attach = median_attach(&exe, &["iox-attach"])?;
    let publisher = iox_publisher()?;
    let t = Instant::now();
    for _ in 0..MESSAGES {
        loop {
            let Ok(sample) = publisher.loan_slice_uninit(PAYLOAD.len()) else {
                std::hint::spin_loop();
                continue;
            };
            sample.write_from_slice(PAYLOAD.as_bytes()).send()?;
            break;
        }
    }
    let iox_publish = t.elapsed().as_nanos() as f64 / MESSAGES as f64;
    consumer.kill()?;
    consumer.wait()?;

    println!("{:<28} {:>14} {:>16}", "candidate", "attach (µs)", "publish (ns/msg)");
    println!("{:<28} {:>14.1} {:>16.1}", "rust-echo ring", ring_attach / 1e3, ring_publish);
    println!("{:<28} {:>14.1} {:>16.1}", "iceoryx2 0.10 publish-subscribe", iox_attach / 1e3, iox_publish);
    Ok(())
}

fn spawn(exe: &std::path::Path, args: &[&str]) -> std::io::Result<Child> {
    Command::new(exe).args(args).spawn()
}

/// Median nanoseconds a fresh process needs to attach and send its first message.
fn median_attach(exe: &std::path::Path, args: &[&str]) -> Result<f64, Box<dyn std::error::Error>> {
    let mut times = Vec::new();
    for _ in 0..ATTACHES {
        let out = Command::new(exe).args(args).output()?;
        times.push(String::from_utf8(out.stdout)?.trim().parse::<f64>()?);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[ATTACHES / 2])
}

fn ring_consumer(name: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut c = Consumer::create(name, 16 << 20, 0o600)?;
    loop {
        if c.poll(|_| {}) == 0 {
            c.wait(Duration::from_millis(100));
        }
    }
}

fn iox_service(node: &Node<ipc::Service>) -> Result<iceoryx2::service::port_factory::publish_subscribe::PortFactory<ipc::Service, [u8], ()>, Box<dyn std::error::Error>> {
    Ok(node
        .service_builder(&SERVICE.try_into()?)
        .publish_subscribe::<[u8]>()
        // Every PHP worker process is a publisher: size for a small FPM pool plus workers.
        .max_publishers(64)
        .max_nodes(128)
        .subscriber_max_buffer_size(4096)
        .open_or_create()?)
}

fn iox_publisher() -> Result<iceoryx2::port::publisher::Publisher<ipc::Service, [u8], ()>, Box<dyn std::error::Error>> {
    let node = NodeBuilder::new().create::<ipc::Service>()?;
    let service = iox_service(&node)?;
    let publisher = service.publisher_builder().initial_max_slice_len(256).create()?;
    // The node must outlive the publisher; this process exits right after.
    std::mem::forget(node);
    Ok(publisher)
}

fn iox_consumer() -> Result<(), Box<dyn std::error::Error>> {
    let node = NodeBuilder::new().create::<ipc::Service>()?;
    let service = iox_service(&node)?;
    let subscriber = service.subscriber_builder().create()?;
    loop {
        let mut n = 0;
        while let Some(sample) = subscriber.receive()? {
            n += sample.payload().len();
        }
        if n == 0 {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
}
