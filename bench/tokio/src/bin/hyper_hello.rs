//! usage: hyper_hello PORT [WORKERS=1]
//!
//! The Tokio + hyper peer of `GET /`: any request is answered 200 "Hello, World!" (text/plain)
//! over HTTP/1.1 keep-alive, one Tokio task per connection (hyper's default executor). The
//! accept loop is itself a task on the runtime, so with one worker everything runs on it, as
//! Brigade with --worker-threads 1 and nginx with one worker process.
use brigade_bench_peers as peers;

use std::convert::Infallible;

use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Request, Response, Server};

async fn hello(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    let mut response = Response::new(Body::from("Hello, World!"));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(response)
}

fn main() {
    let port: u16 = peers::arg(1, 0);
    let workers: usize = peers::arg(2, 1);
    let socket = peers::bind_loopback(port);
    let runtime = peers::runtime(workers);
    let server = runtime.spawn(async move {
        let make_service = make_service_fn(|_| async { Ok::<_, Infallible>(service_fn(hello)) });
        let server = Server::from_tcp(socket)
            .expect("hyper from_tcp")
            .http1_only(true)
            .http1_keepalive(true)
            .tcp_nodelay(true)
            .serve(make_service);
        eprintln!(
            "hyper_hello: listening on {} with {workers} worker(s)",
            server.local_addr()
        );
        if let Err(error) = server.await {
            eprintln!("hyper_hello: {error}");
        }
    });
    runtime.block_on(server).expect("server task");
}
