//! A small HTTP/1.1 client over `std::net` for range requests: plain `http://`, and
//! `https://` with the `tls` feature (rustls: see [`super::tls`]; without the feature no TLS
//! and no C). One GET with a `Range` header per call, connections kept alive in a pool,
//! timeouts on connect, read and write so a silent server is an error, never a hang.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Where requests go: host, port and the (already percent-encoded) path.
#[derive(Clone, Debug)]
pub struct Target {
    /// Host name or address, as in the URL.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Request path, starting with `/`.
    pub path: String,
    /// `https://`: TLS.
    pub tls: bool,
}

impl Target {
    /// Parse `http://host[:port]/path`, or `https://…` with the `tls` feature (refused with
    /// a clear error without it).
    pub fn parse(url: &str) -> std::io::Result<Target> {
        let (rest, tls) = if let Some(r) = url.strip_prefix("http://") {
            (r, false)
        } else if let Some(r) = url.strip_prefix("https://") {
            if !cfg!(feature = "tls") {
                return Err(invalid(format!(
                    "{url}: https is not supported by this build (no TLS stack: the optional `tls` feature adds one, and builds C); use an http:// URL or endpoint"
                )));
            }
            (r, true)
        } else {
            return Err(invalid(format!("{url}: not an http:// URL")));
        };
        let default_port = if tls { 443 } else { 80 };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                let port = p
                    .parse()
                    .map_err(|_| invalid(format!("{url}: bad port {p:?}")))?;
                (h.to_string(), port)
            }
            _ => (authority.to_string(), default_port),
        };
        if host.is_empty() {
            return Err(invalid(format!("{url}: no host")));
        }
        Ok(Target {
            host,
            port,
            path: path.to_string(),
            tls,
        })
    }

    /// The `Host` header value.
    pub fn host_header(&self) -> String {
        if self.port == if self.tls { 443 } else { 80 } {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Status, headers (names lower-cased) and body of one response.
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Header lines as `(lower-case name, value)`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One connection: plain TCP, or TLS over TCP.
pub enum Stream {
    /// `http://`.
    Plain(TcpStream),
    /// `https://`.
    #[cfg(feature = "tls")]
    Tls(Box<super::tls::TlsStream>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// A keep-alive connection pool to one host.
pub struct Client {
    target: Target,
    timeout: Duration,
    /// Idle connections to the target's server, shared by every client of this process
    /// with the same host, port, scheme and timeout (see [`Client::new`]).
    pool: Arc<Mutex<Vec<BufReader<Stream>>>>,
    #[cfg(feature = "tls")]
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

/// Idle keep-alive connections per (host, port, TLS, timeout), shared by the clients of a
/// process: a reopen of a file (or another file on the same server) reuses them instead of
/// paying a TCP (and TLS) handshake again.
type Pools = HashMap<(String, u16, bool, Duration), Arc<Mutex<Vec<BufReader<Stream>>>>>;

/// Most idle connections kept per server.
const MAX_IDLE: usize = 64;

fn shared_pool(target: &Target, timeout: Duration) -> Arc<Mutex<Vec<BufReader<Stream>>>> {
    static POOLS: OnceLock<Mutex<Pools>> = OnceLock::new();
    let key = (target.host.clone(), target.port, target.tls, timeout);
    match POOLS.get_or_init(Default::default).lock() {
        Ok(mut m) => m.entry(key).or_default().clone(),
        // A poisoned registry only costs sharing.
        Err(_) => Arc::default(),
    }
}

/// Most bytes of an error body kept (the rest is discarded with the connection).
const MAX_ERROR_BODY: usize = 64 << 10;

impl Client {
    /// A client for `target` with `timeout` on connect and on every read/write (for
    /// `https://`, with the trusted certificates loaded now: see [`super::tls`]).
    pub fn new(target: Target, timeout: Duration) -> std::io::Result<Client> {
        #[cfg(feature = "tls")]
        let tls = if target.tls {
            Some(super::tls::config()?)
        } else {
            None
        };
        Ok(Client {
            pool: shared_pool(&target, timeout),
            target,
            timeout,
            #[cfg(feature = "tls")]
            tls,
        })
    }

    /// The timeout on connect and on every read/write.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    fn connect(&self) -> std::io::Result<BufReader<Stream>> {
        let addrs = (self.target.host.as_str(), self.target.port).to_socket_addrs()?;
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(s) => {
                    s.set_read_timeout(Some(self.timeout))?;
                    s.set_write_timeout(Some(self.timeout))?;
                    s.set_nodelay(true)?;
                    #[cfg(feature = "tls")]
                    if let Some(cfg) = &self.tls {
                        let t = super::tls::connect(cfg, &self.target.host, s)?;
                        return Ok(BufReader::with_capacity(64 << 10, Stream::Tls(Box::new(t))));
                    }
                    return Ok(BufReader::with_capacity(64 << 10, Stream::Plain(s)));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| invalid(format!("{}: no address", self.target.host))))
    }

    /// GET the target with `Range: bytes=start-end_inclusive` and extra headers. A body
    /// longer than `max_body` is an error.
    pub fn get_range(
        &self,
        start: u64,
        end_inclusive: u64,
        extra: &[(String, String)],
        max_body: u64,
    ) -> std::io::Result<Response> {
        let pooled = self.pool.lock().map(|mut p| p.pop()).unwrap_or(None);
        let fresh = pooled.is_none();
        let mut conn = match pooled {
            Some(c) => c,
            None => self.connect()?,
        };
        match self.exchange(&mut conn, start, end_inclusive, extra, max_body) {
            Ok((resp, reusable)) => {
                if reusable {
                    self.put_back(conn);
                }
                Ok(resp)
            }
            // A pooled connection may have been closed by the server meanwhile: retry once
            // on a fresh one.
            Err(_) if !fresh => {
                let mut conn = self.connect()?;
                let (resp, reusable) =
                    self.exchange(&mut conn, start, end_inclusive, extra, max_body)?;
                if reusable {
                    self.put_back(conn);
                }
                Ok(resp)
            }
            Err(e) => Err(e),
        }
    }

    /// Keep an idle connection for the next request (bounded).
    fn put_back(&self, conn: BufReader<Stream>) {
        if let Ok(mut p) = self.pool.lock() {
            if p.len() < MAX_IDLE {
                p.push(conn);
            }
        }
    }

    fn exchange(
        &self,
        conn: &mut BufReader<Stream>,
        start: u64,
        end_inclusive: u64,
        extra: &[(String, String)],
        max_body: u64,
    ) -> std::io::Result<(Response, bool)> {
        let mut req = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nRange: bytes={start}-{end_inclusive}\r\nUser-Agent: h5sparse\r\nAccept-Encoding: identity\r\n",
            self.target.path,
            self.target.host_header()
        );
        for (k, v) in extra {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        conn.get_mut().write_all(req.as_bytes())?;
        let mut line = String::new();
        read_line(conn, &mut line)?;
        let mut parts = line.split_whitespace();
        let version = parts.next().unwrap_or("");
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid(format!("bad HTTP status line {:?}", line.trim_end())))?;
        if !version.starts_with("HTTP/1.") {
            return Err(invalid(format!(
                "bad HTTP status line {:?}",
                line.trim_end()
            )));
        }
        let mut headers = Vec::new();
        loop {
            line.clear();
            read_line(conn, &mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if headers.len() > 200 {
                return Err(invalid("too many HTTP headers".to_string()));
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let mut resp = Response {
            status,
            headers,
            body: Vec::new(),
        };
        let ok = status == 206 || status == 200;
        let cap = if ok { max_body } else { MAX_ERROR_BODY as u64 };
        let close = resp
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let chunked = resp
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if let Some(len) = resp.header("content-length") {
            let len: u64 = len
                .parse()
                .map_err(|_| invalid(format!("bad Content-Length {len:?}")))?;
            if len > cap {
                if ok {
                    return Err(invalid(format!(
                        "server sent {len} bytes where at most {cap} were asked for (does it answer range requests?)"
                    )));
                }
                return Ok((resp, false));
            }
            resp.body = vec![0; len as usize];
            conn.read_exact(&mut resp.body)?;
            Ok((resp, !close))
        } else if chunked {
            read_chunked(conn, &mut resp.body, cap)?;
            Ok((resp, !close))
        } else {
            conn.take(cap + 1).read_to_end(&mut resp.body)?;
            if resp.body.len() as u64 > cap && ok {
                return Err(invalid(format!(
                    "server sent more than the {cap} bytes asked for (does it answer range requests?)"
                )));
            }
            Ok((resp, false))
        }
    }
}

fn read_line(conn: &mut BufReader<Stream>, line: &mut String) -> std::io::Result<()> {
    let n = conn.by_ref().take(16 << 10).read_line(line)?;
    if n == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "server closed the connection",
        ));
    }
    Ok(())
}

fn read_chunked(conn: &mut BufReader<Stream>, out: &mut Vec<u8>, cap: u64) -> std::io::Result<()> {
    let mut line = String::new();
    loop {
        line.clear();
        read_line(conn, &mut line)?;
        let size = line.trim().split(';').next().unwrap_or("");
        let size = u64::from_str_radix(size, 16)
            .map_err(|_| invalid(format!("bad chunk size {size:?}")))?;
        if size == 0 {
            // Trailers up to the blank line.
            loop {
                line.clear();
                read_line(conn, &mut line)?;
                if line.trim().is_empty() {
                    return Ok(());
                }
            }
        }
        if out.len() as u64 + size > cap {
            return Err(invalid("response body larger than asked for".to_string()));
        }
        let at = out.len();
        out.resize(at + size as usize, 0);
        conn.read_exact(&mut out[at..])?;
        line.clear();
        read_line(conn, &mut line)?;
    }
}

fn invalid(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
}
