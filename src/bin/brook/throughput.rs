//! `brook throughput`: broker-throughput. The server counts the Zeek events arriving on
//! `/benchmark/events` and prints `rate: N events/s` once per second; the client publishes
//! events there, unthrottled (`-r 0`) or as `-r` batches per second.
//!
//! Event types, as in broker-throughput: 1 is `event_1(42, "test")`; 2 resembles a conn.log
//! line (`event_2`, 18 arguments); 3 is `event_3` with a timestamp and a table of 100 random
//! strings to sets of 10. A batch of more than one event (`-s`) travels as one Zeek batch
//! message, which the server counts as its events.

use crate::common::{self, Pacer, Result};
use brook::data::zeek::{Event, Message as ZeekMessage};
use brook::data::{Set, Table, bin};
use brook::{
    Address, Data, Endpoint, Message, Port, Protocol, StatusCode, StatusKind, Timespan, Timestamp,
};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// Where the client publishes and the server subscribes (broker-throughput's topic).
pub const TOPIC: &str = "/benchmark/events";
/// Any message here stops the server (as in broker-throughput).
const TERMINATE_TOPIC: &str = "/benchmark/terminate";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Listen on HOST:PORT and count events, instead of sending them there.
    #[arg(long)]
    server: bool,
    /// Payload: 1 (small event, default), 2 (conn.log-like event), 3 (event with a table).
    #[arg(short = 't', long, value_name = "TYPE", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=3))]
    event_type: u8,
    /// Batches per second (0: as fast as possible, one event per message).
    #[arg(
        short = 'r',
        long,
        visible_alias = "rate",
        value_name = "RATE",
        default_value = "1",
        value_parser = common::rate
    )]
    batch_rate: f64,
    /// Events per batch.
    #[arg(short = 's', long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: u64,
    /// Server: stop after receiving this many events.
    #[arg(short = 'm', long, value_name = "N")]
    max_received: Option<u64>,
    /// Client: stop after this many seconds (default: run until SIGINT).
    #[arg(long, value_name = "SECS", value_parser = common::seconds)]
    duration: Option<Duration>,
    /// Print status events (and, in the client, progress) to stderr.
    #[arg(long)]
    verbose: bool,
    /// Client: the server to peer with; server: where to listen. An empty host means
    /// localhost (client) or every interface (server); an empty port means 9999.
    #[arg(value_name = "HOST:PORT")]
    address: String,
    #[command(flatten)]
    endpoint: common::EndpointArgs,
}

pub fn run(args: Args) -> Result<()> {
    let (host, port) = split_address(&args.address)?;
    let ep = Endpoint::new(args.endpoint.config()?)?;
    common::catch_interrupts();
    if args.server {
        if args.verbose {
            common::print_status_events(&ep)?;
        }
        server(&ep, &host, port, args.max_received)
    } else {
        let host = if host.is_empty() { "127.0.0.1" } else { &host };
        client(&ep, host, port, &args)
    }
}

/// broker-throughput's `<host>:<port>`, with 9999 for an empty port.
fn split_address(s: &str) -> Result<(String, u16)> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("invalid address {s:?}: expected HOST:PORT"))?;
    let port = match port {
        "" => 9999,
        p => p.parse().map_err(|_| format!("invalid port in {s:?}"))?,
    };
    Ok((host.to_string(), port))
}

fn server(ep: &Endpoint, host: &str, port: u16, max: Option<u64>) -> Result<()> {
    let sub = ep.subscribe(&[TOPIC])?;
    let stop = ep.subscribe(&[TERMINATE_TOPIC])?;
    common::listen(ep, host, port)?;
    let batch_prefix = zeek_batch_prefix();
    let max = max.unwrap_or(u64::MAX);
    let mut total = 0u64;
    let mut dropped = 0u64;
    let mut next = Instant::now();
    while !common::interrupted() && stop.available() == 0 && total < max {
        next += Duration::from_secs(1);
        let mut n = 0u64;
        loop {
            let left = next.saturating_duration_since(Instant::now());
            if left.is_zero() || common::interrupted() || total + n >= max {
                break;
            }
            // Wake at least every 100 ms to notice a signal.
            let Some(first) = sub.get(Some(left.min(Duration::from_millis(100))))? else {
                continue;
            };
            n += events_in(&first, &batch_prefix);
            for m in sub.poll(4096) {
                n += events_in(&m, &batch_prefix);
            }
        }
        total += n;
        println!("rate: {n} events/s");
        if sub.dropped() > dropped {
            common::note(format_args!("dropped {} events", sub.dropped() - dropped));
            dropped = sub.dropped();
        }
    }
    Ok(())
}

/// The bin-v1 bytes every Zeek batch message starts with: `(1, 5, ` up to its content's
/// vector tag. Anything else counts as one event, without decoding it.
fn zeek_batch_prefix() -> Vec<u8> {
    let empty = Data::from(ZeekMessage::Batch(Vec::new()));
    let mut bytes = bin::encode(&empty).unwrap_or_default();
    // Drop the empty vector's length (one varbyte: 0), keeping its tag.
    bytes.pop();
    bytes
}

fn events_in(m: &Message, batch_prefix: &[u8]) -> u64 {
    if !m.payload().starts_with(batch_prefix) {
        return 1;
    }
    match m.data() {
        Ok(Data::Vector(v)) => match v.get(2) {
            Some(Data::Vector(events)) => events.len() as u64,
            _ => 1,
        },
        _ => 1,
    }
}

fn client(ep: &Endpoint, host: &str, port: u16, args: &Args) -> Result<()> {
    let status = ep.status_subscriber(true)?;
    ep.peer(host, port, common::RETRY)
        .map_err(|e| format!("unable to peer to {host} on port {port}: {e}"))?;
    if !common::wait_for_subscriber(ep, TOPIC, Duration::from_secs(10))? {
        common::note(format_args!(
            "{host}:{port} has not subscribed to {TOPIC}; sending anyway"
        ));
    }
    let deadline = args.duration.and_then(|d| Instant::now().checked_add(d));
    let mut events = Generator::new(args.event_type);
    let start = Instant::now();
    let mut sent = 0u64;
    // Unthrottled, broker-throughput sends single events; at a rate, batches.
    let batch = if args.batch_rate > 0.0 {
        args.batch_size
    } else {
        1
    };
    // Type 1 messages are all the same: built once.
    let fixed = (args.event_type == 1).then(|| events.message(batch));
    let mut pacer = Pacer::new(args.batch_rate);
    let per_check = if args.batch_rate > 0.0 { 1 } else { 256 };
    let mut lost = None;
    let stopped = || common::interrupted() || deadline.is_some_and(|d| Instant::now() >= d);
    'run: loop {
        for _ in 0..per_check {
            if !pacer.wait(stopped) {
                break 'run;
            }
            match &fixed {
                Some(msg) => ep.publish(TOPIC, msg)?,
                None => ep.publish(TOPIC, &events.message(batch))?,
            }
            sent += batch;
        }
        for ev in status.poll(16) {
            if args.verbose {
                common::note(common::describe(&ev));
            }
            if matches!(
                ev.kind,
                StatusKind::Status(StatusCode::PeerLost | StatusCode::PeerRemoved)
            ) {
                lost = Some(ev.message);
                break 'run;
            }
        }
        if stopped() {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let undelivered = common::finish_publishing(ep, false)?;
    println!("sent: {sent} events in {secs:.3} s, {undelivered} messages undelivered");
    match lost {
        Some(why) => Err(format!("lost the peering with {host}:{port}: {why}").into()),
        None => common::undelivered(undelivered),
    }
}

/// Makes broker-throughput's events; types 2 and 3 draw fresh random strings each time from
/// the same generator broker-throughput uses (minstd_rand seeded with 31337).
struct Generator {
    event_type: u8,
    rng: u64,
    counter: u64,
}

const CHARSET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl Generator {
    fn new(event_type: u8) -> Generator {
        Generator {
            event_type,
            rng: 31337,
            counter: 0,
        }
    }

    fn next_random(&mut self) -> u64 {
        self.rng = self.rng * 48271 % 2_147_483_647;
        self.rng
    }

    fn string(&mut self, n: usize) -> Data {
        let s: Vec<u8> = (0..n)
            .map(|_| CHARSET[(self.next_random() % CHARSET.len() as u64) as usize])
            .collect();
        Data::String(s)
    }

    fn count(&mut self) -> Data {
        self.counter += 1;
        Data::Count(self.counter)
    }

    /// One event, or a Zeek batch of `n` events.
    fn message(&mut self, n: u64) -> Data {
        if n == 1 {
            return self.event().into();
        }
        let events = (0..n).map(|_| ZeekMessage::Event(self.event())).collect();
        ZeekMessage::Batch(events).into()
    }

    fn event(&mut self) -> Event {
        let args = match self.event_type {
            1 => vec![Data::Integer(42), Data::from("test")],
            2 => self.conn_log_line(),
            _ => self.table(),
        };
        Event::new(format!("event_{}", self.event_type), args)
    }

    fn conn_log_line(&mut self) -> Vec<Data> {
        let addr = |a: [u8; 4]| Data::Address(Address::from(Ipv4Addr::from(a)));
        let tcp = |p: u16| Data::Port(Port::new(p, Protocol::Tcp));
        vec![
            Data::Timestamp(Timestamp::now()),
            self.string(10),
            Data::Vector(vec![
                addr([1, 2, 3, 4]),
                tcp(4567),
                addr([3, 4, 5, 6]),
                tcp(80),
            ]),
            Data::enum_value("tcp"),
            self.string(10),
            Data::Timespan(Timespan(3_140_000_000)),
            self.count(),
            self.count(),
            self.string(5),
            Data::Boolean(true),
            Data::Boolean(false),
            self.count(),
            self.string(10),
            self.count(),
            self.count(),
            self.count(),
            self.count(),
            Data::Set(Set::from([self.string(10), self.string(10)])),
        ]
    }

    fn table(&mut self) -> Vec<Data> {
        let mut table = Table::new();
        while table.len() < 100 {
            let key = self.string(15);
            if table.contains_key(&key) {
                continue;
            }
            let mut values = Set::new();
            while values.len() < 10 {
                values.insert(self.string(5));
            }
            table.insert(key, Data::Set(values));
        }
        vec![Data::Timestamp(Timestamp::now()), Data::Table(table)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_like_broker_throughput() {
        assert_eq!(split_address("h:1").unwrap(), ("h".into(), 1));
        assert_eq!(split_address(":").unwrap(), ("".into(), 9999));
        assert!(split_address("h").is_err());
    }

    #[test]
    fn events_have_broker_throughputs_shapes() {
        let mut g = Generator::new(1);
        assert_eq!(
            g.event(),
            Event::new("event_1", vec![Data::Integer(42), Data::from("test")])
        );
        assert_eq!(Generator::new(2).event().args.len(), 18);
        let e = Generator::new(3).event();
        match &e.args[1] {
            Data::Table(t) => assert_eq!(t.len(), 100),
            other => panic!("not a table: {other:?}"),
        }
    }

    #[test]
    fn batches_are_recognised_by_their_prefix() {
        let prefix = zeek_batch_prefix();
        let one = Data::from(Event::new("e", vec![]));
        let batch = Data::from(ZeekMessage::Batch(vec![
            ZeekMessage::Event(Event::new("e", vec![])),
            ZeekMessage::Event(Event::new("e", vec![])),
        ]));
        assert!(!bin::encode(&one).unwrap().starts_with(&prefix));
        assert!(bin::encode(&batch).unwrap().starts_with(&prefix));
    }
}
