//! `brook node`: broker-node's relay, ping and pong modes.
//!
//! Messages are broker-node's, so brook and Broker nodes answer each other: a ping is the
//! list `("ping", id, payload)` with a payload of `-s` bytes `x`, a pong is `("pong", id)`,
//! and the string `stop` ends a relay or pong node. A pong goes back on the topic its ping
//! came on. Ping mode sends on the first topic and subscribes to it, repeats ping 0 every
//! `--rendezvous-retry` until pong 0 arrives, then sends `-n` pings one at a time and prints
//! each round trip in nanoseconds.
//!
//! With `--zeek-events`, ping mode sends Zeek events `ping(id, payload)` instead, and pong
//! mode answers any `ping` event with a `pong` event carrying the same arguments, so a Zeek
//! script can take either side.

use crate::common::{self, Result};
use brook::data::text;
use brook::data::zeek::Event;
use brook::{Data, Endpoint, Message, Subscriber};
use clap::ValueEnum;
use std::io::Write;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// 'relay' (receive and forward), 'ping' or 'pong'.
    #[arg(short, long, value_enum, default_value = "relay")]
    mode: Mode,
    /// Topics to send and receive on (ping uses the first), comma-separated or repeated.
    #[arg(short, long, value_name = "TOPIC", required = true)]
    topics: Vec<String>,
    /// Port to listen on for peers, as `8080` or `8080/tcp` (0: any free port; the bound
    /// port goes to stderr). Defaults to $BROKER_PORT if set.
    #[arg(short, long, value_name = "PORT")]
    port: Option<String>,
    /// Peers to connect to: host:port or tcp://host:port, comma-separated or repeated.
    #[arg(long, value_name = "HOST:PORT")]
    peers: Vec<String>,
    /// Ping mode: number of pings.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..))]
    num_messages: u64,
    /// Ping mode: payload bytes in each ping.
    #[arg(short = 's', long, value_name = "BYTES", default_value_t = 0)]
    payload_size: usize,
    /// Ping mode: how long to wait for pong 0 before repeating ping 0 (e.g. 250ms, 1s).
    #[arg(long, value_name = "TIME", default_value = "250ms", value_parser = parse_timespan)]
    rendezvous_retry: Duration,
    /// Ping mode: send Zeek events instead of broker-node's lists.
    #[arg(long)]
    zeek_events: bool,
    /// Print status and progress to stderr.
    #[arg(short, long)]
    verbose: bool,
    /// Relay mode with --verbose: print the messages received per second.
    #[arg(short, long)]
    rate: bool,
    /// Name shown in verbose output (default: the mode).
    #[arg(short = 'N', long)]
    name: Option<String>,
    #[command(flatten)]
    endpoint: common::EndpointArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, ValueEnum)]
enum Mode {
    Relay,
    Ping,
    Pong,
}

fn parse_timespan(s: &str) -> std::result::Result<Duration, String> {
    match text::parse_timespan(s) {
        Some(ns) if ns >= 0 => Ok(Duration::from_nanos(ns as u64)),
        _ => Err(format!("not a duration: {s:?} (try 250ms or 1s)")),
    }
}

/// `8080` or Broker's `8080/tcp`.
fn parse_port(s: &str) -> Result<u16> {
    let number = s.split_once('/').map_or(s, |(n, _)| n);
    Ok(number
        .trim()
        .parse()
        .map_err(|_| format!("invalid port {s:?}"))?)
}

/// What a received message is, in either format.
#[derive(Debug, PartialEq)]
enum Kind {
    Ping(u64),
    Pong(u64),
    PingEvent(Vec<Data>),
    PongEvent(u64),
    Stop,
    Other,
}

fn classify(m: &Message) -> Kind {
    let Ok(d) = m.data() else {
        return Kind::Other;
    };
    match &d {
        Data::String(s) if s == b"stop" => return Kind::Stop,
        Data::Vector(v) => match v.as_slice() {
            [Data::String(p), Data::Count(id), Data::String(_)] if p == b"ping" => {
                return Kind::Ping(*id);
            }
            [Data::String(p), Data::Count(id)] if p == b"pong" => return Kind::Pong(*id),
            _ => {}
        },
        _ => {}
    }
    match Event::try_from(d) {
        Ok(e) if e.name == "ping" => Kind::PingEvent(e.args),
        Ok(e) if e.name == "pong" => match e.args.first() {
            Some(Data::Count(id)) => Kind::PongEvent(*id),
            _ => Kind::Other,
        },
        _ => Kind::Other,
    }
}

fn ping_message(id: u64, payload: usize, zeek: bool) -> Data {
    let payload = Data::String(vec![b'x'; payload]);
    if zeek {
        Event::new("ping", vec![Data::Count(id), payload]).into()
    } else {
        Data::Vector(vec![Data::from("ping"), Data::Count(id), payload])
    }
}

fn is_pong(m: &Message, id: u64) -> bool {
    matches!(classify(m), Kind::Pong(i) | Kind::PongEvent(i) if i == id)
}

pub fn run(args: Args) -> Result<()> {
    let topics = common::split_list(&args.topics);
    if topics.is_empty() {
        return Err("no topics specified".into());
    }
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("{:?}", args.mode).to_lowercase());
    let verbose = |what: &str| {
        if args.verbose {
            // One write per line, as common::note does.
            let _ = std::io::stderr().write_all(format!("{name}: {what}\n").as_bytes());
        }
    };
    let ep = Endpoint::new(args.endpoint.config()?)?;
    if args.verbose {
        common::print_status_events(&ep)?;
    }
    // Subscribe before listening and peering, so that the first routing update carries the
    // filter; ping listens only to its first topic.
    let sub = match args.mode {
        Mode::Ping => ep.subscribe(&topics[..1])?,
        _ => ep.subscribe(&topics)?,
    };
    ep.forward(&topics)?;
    let port = match &args.port {
        Some(p) => Some(parse_port(p)?),
        None => match std::env::var("BROKER_PORT") {
            Ok(p) => Some(parse_port(&p)?),
            Err(_) => None,
        },
    };
    if let Some(port) = port {
        common::listen(&ep, "", port)?;
    }
    common::peer_all(&ep, &common::split_list(&args.peers))?;
    match args.mode {
        Mode::Relay => relay(&sub, args.verbose && args.rate, &verbose),
        Mode::Pong => pong(&ep, &sub, &verbose),
        Mode::Ping => ping(&ep, &sub, &topics[0], &args, &verbose),
    }
}

fn relay(sub: &Subscriber, rate: bool, verbose: &dyn Fn(&str)) -> Result<()> {
    verbose("relay messages");
    let mut next = Instant::now() + Duration::from_secs(1);
    let mut received = 0u64;
    loop {
        let timeout = rate.then(|| next.saturating_duration_since(Instant::now()));
        if let Some(m) = sub.get(timeout)? {
            match classify(&m) {
                Kind::Stop => {
                    verbose("received stop");
                    return Ok(());
                }
                Kind::Ping(id) => verbose(&format!("received ping {id}")),
                Kind::Pong(id) => verbose(&format!("received pong {id}")),
                _ => {}
            }
            received += 1;
        }
        if rate && Instant::now() >= next {
            verbose(&format!("{received}/s"));
            received = 0;
            next += Duration::from_secs(1);
        }
    }
}

fn pong(ep: &Endpoint, sub: &Subscriber, verbose: &dyn Fn(&str)) -> Result<()> {
    loop {
        let Some(m) = sub.get(None)? else {
            continue;
        };
        match classify(&m) {
            Kind::Ping(id) => {
                verbose(&format!("received ping {id}"));
                let pong = Data::Vector(vec![Data::from("pong"), Data::Count(id)]);
                ep.publish(m.topic(), &pong)?;
            }
            Kind::PingEvent(args) => {
                verbose("received ping event");
                ep.publish_event(m.topic(), Event::new("pong", args))?;
            }
            Kind::Stop => {
                verbose("received stop");
                return Ok(());
            }
            _ => {}
        }
    }
}

fn ping(
    ep: &Endpoint,
    sub: &Subscriber,
    topic: &str,
    args: &Args,
    verbose: &dyn Fn(&str),
) -> Result<()> {
    verbose(&format!("send pings to topic {topic}"));
    // Rendezvous: ping 0 is not measured; it is repeated until a pong shows that the pong
    // node is up and subscribed.
    let rendezvous = ping_message(0, 0, args.zeek_events);
    ep.publish(topic, &rendezvous)?;
    loop {
        match sub.get(Some(args.rendezvous_retry))? {
            Some(m) if is_pong(&m, 0) => break,
            Some(_) => {}
            None => ep.publish(topic, &rendezvous)?,
        }
    }
    let mut out = std::io::stdout().lock();
    let mut total = Duration::ZERO;
    for id in 1..=args.num_messages {
        let msg = ping_message(id, args.payload_size, args.zeek_events);
        let t0 = Instant::now();
        ep.publish(topic, &msg)?;
        while !sub.get(None)?.is_some_and(|m| is_pong(&m, id)) {}
        let rtt = t0.elapsed();
        total += rtt;
        writeln!(out, "{}", rtt.as_nanos())?;
        out.flush()?;
    }
    verbose(&format!(
        "AVG: {}ns",
        total.as_nanos() / u128::from(args.num_messages)
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_timespans_read_like_broker_node() {
        assert_eq!(parse_port("8080").unwrap(), 8080);
        assert_eq!(parse_port("8080/tcp").unwrap(), 8080);
        assert!(parse_port("x").is_err());
        assert_eq!(parse_timespan("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_timespan("1s").unwrap(), Duration::from_secs(1));
    }
}
