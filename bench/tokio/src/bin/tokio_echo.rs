//! usage: tokio_echo PORT [stack|heap|lazy] [WORKERS=1]
//!        tokio_echo --future-sizes
//!
//! Tokio's memory per idle connection: a TCP echo server, one task per connection, the accept
//! loop a task on the runtime. The connection task, by its second argument:
//!   stack  the 4 KiB buffer inside the task's future (Tokio's tutorial echo loop)
//!   heap   a 4 KiB Vec per connection
//!   lazy   waits with `readable()`, takes a 4 KiB buffer only while there is data to echo
//! These match `memory_bench --serve frame4k|heap4k|lazy PORT` on Brigade's side.
//! --future-sizes prints the size in bytes of each connection task's future (its state across
//! awaits, the stream included), to set beside Brigade's coroutine frames (runtime/README.md).
use brigade_bench_peers as peers;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BUFFER: usize = 4096;

async fn echo_stack(mut stream: TcpStream) {
    let mut buffer = [0u8; BUFFER];
    while let Ok(n @ 1..) = stream.read(&mut buffer).await {
        if stream.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

async fn echo_heap(mut stream: TcpStream) {
    let mut buffer = vec![0u8; BUFFER];
    while let Ok(n @ 1..) = stream.read(&mut buffer).await {
        if stream.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

async fn echo_lazy(mut stream: TcpStream) {
    loop {
        if stream.readable().await.is_err() {
            return;
        }
        let mut buffer = vec![0u8; BUFFER];
        match stream.try_read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => {
                if stream.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        }
    }
}

/// The size of the future `task` returns: what Tokio stores for one connection, before the task
/// cell around it.
fn future_size<Fut: std::future::Future>(_task: fn(TcpStream) -> Fut) -> usize {
    std::mem::size_of::<Fut>()
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--future-sizes") {
        println!(
            "future_bytes stack={} heap={} lazy={}",
            future_size(echo_stack),
            future_size(echo_heap),
            future_size(echo_lazy)
        );
        return;
    }
    let port: u16 = peers::arg(1, 0);
    let mode: String = peers::arg(2, "stack".to_string());
    let workers: usize = peers::arg(3, 1);
    if !["stack", "heap", "lazy"].contains(&mode.as_str()) {
        eprintln!("usage: tokio_echo PORT [stack|heap|lazy] [WORKERS]");
        std::process::exit(2);
    }
    let socket = peers::bind_loopback(port);
    let runtime = peers::runtime(workers);
    let server = runtime.spawn(async move {
        let listener = TcpListener::from_std(socket).expect("from_std");
        eprintln!(
            "tokio_echo: {mode} echo on {}",
            listener.local_addr().expect("address")
        );
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of descriptors, say: back off rather than spin.
                    eprintln!("tokio_echo: accept: {error}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            match mode.as_str() {
                "stack" => drop(tokio::spawn(echo_stack(stream))),
                "heap" => drop(tokio::spawn(echo_heap(stream))),
                _ => drop(tokio::spawn(echo_lazy(stream))),
            }
        }
    });
    runtime.block_on(server).expect("server task");
}
