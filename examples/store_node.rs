//! A brook endpoint with one data store, driven by line commands on stdin (for interop
//! tests written in other languages; see tests/interop/broker_interop.py).
//!
//!     cargo run --release --example store_node -- master|clone NAME
//!         [--listen PORT] [--peer HOST:PORT]... [--sqlite PATH]
//!
//! The store is attached after listening and peering (so a master is refused with
//! `master_exists` if a peer has one). The node prints `listening <port>` if it listens,
//! then `ready` (or `error <code> <message>` if the store cannot be attached, and exits
//! 1), then one answer per command line:
//! `ok`, `value <text>` (Broker's rendering, `brook::data::text::render`), `type <name>`
//! or `error <code> <message>` (Broker's error code name for store errors, e.g.
//! `error no_such_key ...`). Arguments are values in brook's text form
//! (`brook::data::text::parse`: `42` count, `+5`/`-5` integer, `"a b"` string, `(1, 2)`
//! vector, `{1, 2}` set, `{1 -> 2}` table, `1.5s` timespan, ...), separated by spaces. Write
//! commands take an optional last argument `ttl=<timespan>` (an expiry).
//!
//! Commands: put K V, put_unique K V (answers `value T|F`), get K, type K, exists K,
//! get_index K I, keys, dump (every entry, as `{key -> (key type, value type, value)}`),
//! erase K, clear, increment K N, decrement K N, append K S, insert_into K I [V],
//! remove_from K I, push K V, pop K, await_idle, timeout MS (for blocking calls), quit.

use brook::data::text;
use brook::{Backend, Config, Data, Endpoint, ErrorKind, Store};
use std::io::{BufRead, Write};
use std::time::Duration;

fn usage() -> ! {
    eprintln!(
        "usage: store_node master|clone NAME [--listen PORT] [--peer HOST:PORT]... [--sqlite PATH] [--disable-ssl true]"
    );
    std::process::exit(2)
}

/// Splits `s` into values: each is the shortest run of whitespace-separated words that
/// parses as one value (so `"a b"`, `(1, 2)` and `{1 -> 2}` stay whole).
fn values(s: &str) -> Result<Vec<Data>, String> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let mut found = None;
        for (i, c) in rest.char_indices().chain([(rest.len(), ' ')]) {
            if c.is_whitespace() && i > 0 {
                if let Ok(d) = text::parse(&rest[..i]) {
                    found = Some((d, i));
                    break;
                }
            }
        }
        let (d, i) = found.ok_or_else(|| {
            let e = text::parse(rest)
                .err()
                .map(|e| e.message)
                .unwrap_or_default();
            format!("cannot parse {rest:?}: {e}")
        })?;
        out.push(d);
        rest = rest[i..].trim_start();
    }
    Ok(out)
}

fn kind_name(kind: ErrorKind) -> String {
    match kind {
        ErrorKind::Store(code) => code.name().to_string(),
        ErrorKind::InvalidArgument => "invalid_argument".into(),
        ErrorKind::Decode => "decode".into(),
        ErrorKind::TypeMismatch => "type_mismatch".into(),
        ErrorKind::Encode => "encode".into(),
        ErrorKind::Timeout => "timeout".into(),
        ErrorKind::Closed => "closed".into(),
        ErrorKind::PeerUnavailable => "peer_unavailable".into(),
        ErrorKind::WouldBlock => "would_block".into(),
        ErrorKind::Io => "io".into(),
    }
}

fn one_line(s: &str) -> String {
    s.replace('\n', "\\n")
}

/// Every entry, as a table `{key -> (key type, value type, value)}` (keys, then a get for
/// each), so that values whose renderings are alike (a count and a string `1`, a timestamp
/// and a timespan) still differ.
fn dump(store: &Store) -> brook::Result<Data> {
    let Data::Set(keys) = store.keys()? else {
        return Ok(Data::None);
    };
    let mut t = brook::data::Table::new();
    for k in keys {
        let v = store.get(k.clone())?;
        let kt = Data::from(k.data_type().name());
        let vt = Data::from(v.data_type().name());
        t.insert(k, Data::Vector(vec![kt, vt, v]));
    }
    Ok(Data::Table(t))
}

/// Runs one command line; the answer, or None for `quit`.
fn run(store: &Store, line: &str) -> Option<String> {
    let (cmd, rest) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
    let (rest, ttl) = match rest.trim_end().rsplit_once(' ') {
        Some((r, t)) if t.starts_with("ttl=") => (r, Some(&t[4..])),
        _ if rest.trim().starts_with("ttl=") => ("", Some(&rest.trim()[4..])),
        _ => (rest, None),
    };
    let expiry = match ttl.map(text::parse) {
        None => None,
        Some(Ok(Data::Timespan(t))) if t.0 >= 0 => Some(Duration::from_nanos(t.0 as u64)),
        Some(_) => return Some("error invalid_argument ttl= takes a timespan".into()),
    };
    let args = match values(rest) {
        Ok(a) => a,
        Err(e) => return Some(format!("error invalid_argument {}", one_line(&e))),
    };
    let n = args.len();
    let arg = |i: usize| args[i].clone();
    let want = |k: usize| -> Result<(), String> {
        if n == k {
            Ok(())
        } else {
            Err(format!(
                "error invalid_argument {cmd} takes {k} values, not {n}"
            ))
        }
    };
    macro_rules! need {
        ($k:expr) => {
            if let Err(e) = want($k) {
                return Some(e);
            }
        };
    }
    let value = |r: brook::Result<Data>| r.map(|d| format!("value {}", one_line(&d.to_string())));
    let unit = |r: brook::Result<()>| r.map(|()| "ok".to_string());
    let flag = |r: brook::Result<bool>| r.map(|b| format!("value {}", if b { "T" } else { "F" }));
    let answer = match cmd {
        "quit" => return None,
        "" => return Some("error invalid_argument empty command".into()),
        "put" => {
            need!(2);
            unit(store.put(arg(0), arg(1), expiry))
        }
        "put_unique" => {
            need!(2);
            flag(store.put_unique(arg(0), arg(1), expiry))
        }
        "get" => {
            need!(1);
            value(store.get(arg(0)))
        }
        "type" => {
            need!(1);
            store
                .get(arg(0))
                .map(|d| format!("type {}", d.data_type().name()))
        }
        "exists" => {
            need!(1);
            flag(store.exists(arg(0)))
        }
        "get_index" => {
            need!(2);
            value(store.get_index_from_value(arg(0), arg(1)))
        }
        "keys" => {
            need!(0);
            value(store.keys())
        }
        "dump" => {
            need!(0);
            value(dump(store))
        }
        "erase" => {
            need!(1);
            unit(store.erase(arg(0)))
        }
        "clear" => {
            need!(0);
            unit(store.clear())
        }
        "increment" => {
            need!(2);
            unit(store.increment(arg(0), arg(1), expiry))
        }
        "decrement" => {
            need!(2);
            unit(store.decrement(arg(0), arg(1), expiry))
        }
        "append" => {
            need!(2);
            unit(store.append(arg(0), arg(1), expiry))
        }
        "insert_into" => {
            if n != 2 && n != 3 {
                return Some("error invalid_argument insert_into takes 2 or 3 values".into());
            }
            unit(store.insert_into(arg(0), arg(1), args.get(2).cloned(), expiry))
        }
        "remove_from" => {
            need!(2);
            unit(store.remove_from(arg(0), arg(1), expiry))
        }
        "push" => {
            need!(2);
            unit(store.push(arg(0), arg(1), expiry))
        }
        "pop" => {
            need!(1);
            unit(store.pop(arg(0), expiry))
        }
        "await_idle" => {
            need!(0);
            unit(store.await_idle())
        }
        "timeout" => match rest.trim().parse::<u64>() {
            Ok(ms) => {
                store.set_timeout(Duration::from_millis(ms));
                Ok("ok".into())
            }
            Err(_) => return Some("error invalid_argument timeout takes milliseconds".into()),
        },
        _ => return Some(format!("error invalid_argument unknown command {cmd:?}")),
    };
    Some(answer.unwrap_or_else(|e| format!("error {} {}", kind_name(e.kind), one_line(&e.message))))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || !matches!(args[0].as_str(), "master" | "clone") {
        usage();
    }
    let master = args[0] == "master";
    let name = &args[1];
    let (mut listen, mut peers, mut sqlite) = (None, Vec::new(), None);
    let mut config = Config::default();
    let mut it = args[2..].iter();
    while let Some(a) = it.next() {
        let v = it.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--listen" => listen = Some(v.parse::<u16>().unwrap_or_else(|_| usage())),
            "--peer" => {
                let (h, p) = v.rsplit_once(':').unwrap_or_else(|| usage());
                peers.push((h.to_string(), p.parse::<u16>().unwrap_or_else(|_| usage())));
            }
            "--sqlite" => sqlite = Some(v.clone()),
            "--disable-ssl" => config.disable_ssl = v.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    let fail = |what: &str, e: brook::Error| -> ! {
        eprintln!("store_node: {what}: {e}");
        std::process::exit(1)
    };
    let ep = Endpoint::new(config).unwrap_or_else(|e| fail("endpoint", e));
    let backend = match sqlite {
        Some(p) => Backend::Sqlite(brook::store::SqliteOptions::new(p)),
        None => Backend::Memory,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Some(port) = listen {
        let port = ep
            .listen("127.0.0.1", port)
            .unwrap_or_else(|e| fail("listen", e));
        let _ = writeln!(out, "listening {port}");
        let _ = out.flush();
    }
    for (h, p) in &peers {
        ep.peer(h, *p, Duration::ZERO)
            .unwrap_or_else(|e| fail("peer", e));
    }
    let attached = if master {
        ep.attach_master(name, backend)
    } else {
        ep.attach_clone(name)
    };
    let store = match attached {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(out, "error {} {}", kind_name(e.kind), one_line(&e.message));
            let _ = out.flush();
            ep.shutdown();
            std::process::exit(1)
        }
    };
    let _ = writeln!(out, "ready");
    let _ = out.flush();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        match run(&store, &line) {
            Some(answer) => {
                let _ = writeln!(out, "{answer}");
                let _ = out.flush();
            }
            None => break,
        }
    }
    drop(store);
    ep.shutdown();
}
