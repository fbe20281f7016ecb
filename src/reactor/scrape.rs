//! Prometheus scrapes: the HTTP/1.1 connections of the metrics listener
//! (`Config::metrics_port`), served by the reactor like any other connection, without
//! blocking. A scrape reads one request (at most [`MAX_REQUEST`] bytes), is answered with
//! the counters (`GET /metrics`, or `/`), and is closed once the answer is written; one that
//! does not finish within [`DEADLINE`] is dropped.

use super::transport::Stream;
use std::io::ErrorKind;
use std::time::Duration;

/// The most a request may send before its blank line.
pub(super) const MAX_REQUEST: usize = 8 * 1024;
/// How long a scrape may take, from accept to the last byte of the answer.
pub(super) const DEADLINE: Duration = Duration::from_secs(2);

/// One scrape connection.
pub(super) struct Scrape {
    pub stream: Stream,
    request: Vec<u8>,
    /// The answer, once the request is complete, and how much of it is written.
    response: Option<(Vec<u8>, usize)>,
}

/// How far a scrape has come after an event.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Progress {
    /// Waiting for more of the request, or for the socket to take the answer.
    Waiting,
    /// The request is complete: answer it (with [`Scrape::respond`]).
    Request,
    /// Answered, or the client went away: close it.
    Done,
}

impl Scrape {
    pub(super) fn new(stream: Stream) -> Scrape {
        Scrape {
            stream,
            request: Vec::new(),
            response: None,
        }
    }

    /// The request as it arrived.
    pub(super) fn request(&self) -> &[u8] {
        &self.request
    }

    /// Reads what the client sent, or writes what is left of the answer.
    pub(super) fn on_ready(&mut self) -> Progress {
        if self.response.is_some() {
            return self.write();
        }
        let mut buf = [0u8; 2048];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return Progress::Done,
                Ok(n) => {
                    self.request.extend_from_slice(&buf[..n]);
                    if complete(&self.request) || self.request.len() > MAX_REQUEST {
                        return Progress::Request;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Progress::Waiting,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Progress::Done,
            }
        }
    }

    /// Sets the answer and writes what the socket takes.
    pub(super) fn respond(&mut self, answer: Vec<u8>) -> Progress {
        self.response = Some((answer, 0));
        self.write()
    }

    fn write(&mut self) -> Progress {
        let Some((out, pos)) = self.response.as_mut() else {
            return Progress::Waiting;
        };
        while *pos < out.len() {
            match self.stream.write(&out[*pos..]) {
                Ok(0) => return Progress::Done,
                Ok(n) => *pos += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Progress::Waiting,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Progress::Done,
            }
        }
        Progress::Done
    }
}

fn complete(request: &[u8]) -> bool {
    request.windows(4).any(|w| w == b"\r\n\r\n")
}

/// The whole HTTP answer to `request`: the exposition that `metrics` renders for
/// `GET /metrics` or `GET /`, 404 for other paths, 405 for other methods, 400 for a request
/// that is not HTTP or too long.
pub(super) fn answer(request: &[u8], metrics: impl FnOnce() -> String) -> Vec<u8> {
    let line = request.split(|&b| b == b'\r').next().unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    let (method, path, version) = (parts.next(), parts.next(), parts.next());
    let well_formed = complete(request) && version.is_some_and(|v| v.starts_with(b"HTTP/1."));
    let (status, body) = match (well_formed, method, path) {
        (false, _, _) => ("400 Bad Request", "not an HTTP/1.x request\n".to_string()),
        (true, Some(b"GET"), Some(b"/metrics" | b"/")) => ("200 OK", metrics()),
        (true, Some(b"GET"), _) => ("404 Not Found", "the metrics are at /metrics\n".into()),
        (true, _, _) => ("405 Method Not Allowed", "only GET\n".into()),
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: Vec<u8>) -> String {
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn get_metrics_is_answered_with_the_exposition_and_the_rest_with_errors() {
        let ok = text(answer(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", || {
            "m 1\n".into()
        }));
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("Content-Length: 4\r\n") && ok.ends_with("\r\n\r\nm 1\n"));
        let root = text(answer(b"GET / HTTP/1.0\r\n\r\n", || "m 1\n".into()));
        assert!(root.starts_with("HTTP/1.1 200 OK"));
        let missing = text(answer(b"GET /x HTTP/1.1\r\n\r\n", || unreachable!()));
        assert!(missing.starts_with("HTTP/1.1 404"));
        let post = text(answer(b"POST /metrics HTTP/1.1\r\n\r\n", || unreachable!()));
        assert!(post.starts_with("HTTP/1.1 405"));
        let junk = text(answer(b"\x16\x03\x01garbage", || unreachable!()));
        assert!(junk.starts_with("HTTP/1.1 400"));
        let unfinished = text(answer(b"GET /metrics HTTP/1.1\r\n", || unreachable!()));
        assert!(
            unfinished.starts_with("HTTP/1.1 400"),
            "too long, never completed"
        );
    }
}
