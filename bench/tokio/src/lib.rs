//! What the Tokio peers share: their listening socket, their arguments, their runtime.

/// The listening socket every peer uses: 127.0.0.1:PORT, SO_REUSEADDR, a backlog of 4096 (as
/// nginx's `backlog=4096` and Brigade's bench servers), non-blocking for Tokio.
pub fn bind_loopback(port: u16) -> std::net::TcpListener {
    use socket2::{Domain, Socket, Type};
    let address: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket.set_reuse_address(true).expect("SO_REUSEADDR");
    socket
        .bind(&address.into())
        .unwrap_or_else(|e| panic!("bind {address}: {e}"));
    socket.listen(4096).expect("listen");
    socket.set_nonblocking(true).expect("O_NONBLOCK");
    socket.into()
}

/// The positional argument `index` (1-based) parsed, or `default` when absent.
pub fn arg<T: std::str::FromStr>(index: usize, default: T) -> T {
    match std::env::args().nth(index) {
        Some(text) => text.parse().unwrap_or_else(|_| usage_error(&text)),
        None => default,
    }
}

fn usage_error(text: &str) -> ! {
    eprintln!("cannot use argument {text:?}; see the usage line at the top of the source");
    std::process::exit(2)
}

/// A multi-thread Tokio runtime with `workers` worker threads and every driver enabled.
pub fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()
        .expect("tokio runtime")
}
