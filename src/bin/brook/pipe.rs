//! `brook pipe`: broker-pipe. Publishes each line of stdin as a Broker string, or prints
//! what arrives on a topic as `data(<topic>, <value>)`, one message per line.
//!
//! Unlike broker-pipe, publish mode waits until a peer has subscribed to the topic before it
//! sends (so no line is lost to a peering still in progress), and flushes before exiting.

use crate::common::{self, Pacer, Result};
use brook::data::text;
use brook::{Data, Endpoint, Subscriber};
use clap::ValueEnum;
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// 'publish' (stdin lines to the topic) or 'subscribe' (messages to stdout).
    #[arg(short, long, value_enum)]
    mode: Mode,
    /// Topic to publish on, or topic prefix to subscribe to.
    #[arg(short, long)]
    topic: String,
    /// Peers to connect to at startup: host:port, comma-separated or repeated.
    #[arg(short, long, value_name = "HOST:PORT")]
    peers: Vec<String>,
    /// Port to listen on for peers (0: any free port; the bound port goes to stderr).
    #[arg(short, long, value_name = "PORT")]
    local_port: Option<u16>,
    /// Exit after this many messages.
    #[arg(short = 'c', long, value_name = "N")]
    message_cap: Option<u64>,
    /// Print the number of messages once per second instead of their content.
    #[arg(short, long)]
    rate: bool,
    /// broker-pipe's implementation choice, accepted for its scripts; all three behave the
    /// same here.
    #[arg(
        short,
        long = "impl",
        value_name = "IMPL",
        value_enum,
        default_value = "blocking"
    )]
    _implementation: Impl,
    /// Publish mode: send at most this many lines per second (0: unthrottled).
    #[arg(long, value_name = "N", default_value = "0", value_parser = common::rate)]
    send_rate: f64,
    /// Publish mode: seconds to wait for a peer to subscribe to the topic before sending
    /// anyway (0: do not wait).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = common::seconds)]
    wait: Duration,
    #[command(flatten)]
    endpoint: common::EndpointArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Mode {
    Publish,
    Subscribe,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Impl {
    Blocking,
    Select,
    Stream,
}

pub fn run(args: Args) -> Result<()> {
    let config = args.endpoint.config()?;
    let spooled = config.spool.dir.is_some();
    let ep = Endpoint::new(config)?;
    common::print_status_events(&ep)?;
    let peers = common::split_list(&args.peers);
    // Subscribe before peering, so that the first routing update already carries the filter.
    let sub = match args.mode {
        Mode::Subscribe => Some(ep.subscribe(&[&args.topic])?),
        Mode::Publish => None,
    };
    if let Some(port) = args.local_port {
        common::listen(&ep, "", port)?;
    }
    common::peer_all(&ep, &peers)?;
    let count = Arc::new(AtomicU64::new(0));
    if args.rate {
        let count = count.clone();
        std::thread::spawn(move || print_rate(&count));
    }
    let cap = args.message_cap.unwrap_or(u64::MAX);
    match sub {
        Some(sub) => subscribe(&sub, cap, !args.rate, &count),
        None => {
            let can_reach = !peers.is_empty() || args.local_port.is_some();
            let wait = can_reach && !args.wait.is_zero();
            if wait && !common::wait_for_subscriber(&ep, &args.topic, args.wait)? {
                common::note(format_args!(
                    "no peer subscribed to {} within {:?}; publishing anyway",
                    args.topic, args.wait
                ));
            }
            let n = publish(&ep, &args.topic, cap, args.send_rate, &count)?;
            let lost = common::finish_publishing(&ep, spooled)?;
            println!("*** published {n} messages");
            // A peer cut off, dropped from, or not done at shutdown: not a success. With a
            // spool (--brook.spool.dir=DIR), what no peer took waits in it for the next run.
            common::undelivered(lost)
        }
    }
}

/// Prints how many messages went through in each second, as broker-pipe's `--rate` does.
fn print_rate(count: &AtomicU64) {
    let mut last = 0;
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = count.load(Ordering::Relaxed);
        println!("{}", now - last);
        last = now;
    }
}

fn publish(ep: &Endpoint, topic: &str, cap: u64, rate: f64, count: &AtomicU64) -> Result<u64> {
    let mut stdin = std::io::stdin().lock();
    let mut pacer = Pacer::new(rate);
    let mut line = Vec::new();
    let mut n = 0;
    while n < cap {
        line.clear();
        if stdin.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        pacer.wait(|| false);
        ep.publish(topic, &Data::String(std::mem::take(&mut line)))?;
        n += 1;
        count.store(n, Ordering::Relaxed);
    }
    Ok(n)
}

fn subscribe(sub: &Subscriber, cap: u64, show: bool, count: &AtomicU64) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let mut line = Vec::new();
    let mut n = 0;
    while n < cap {
        let Some(first) = sub.get(None)? else {
            continue;
        };
        // Take what else is waiting in one go; the cap bounds the batch.
        let more = usize::try_from(cap - n - 1).unwrap_or(usize::MAX).min(1024);
        for m in std::iter::once(first).chain(sub.poll(more)) {
            let value = match m.data() {
                Ok(v) => v,
                Err(e) => {
                    let topic = String::from_utf8_lossy(m.topic());
                    common::note(format_args!("skipped a message on {topic}: {e}"));
                    continue;
                }
            };
            n += 1;
            count.store(n, Ordering::Relaxed);
            if show {
                line.clear();
                line.extend_from_slice(b"data(");
                line.extend_from_slice(m.topic());
                line.extend_from_slice(b", ");
                text::render_into(&value, &mut line);
                line.extend_from_slice(b")\n");
                out.write_all(&line)?;
                out.flush()?;
            }
        }
    }
    Ok(())
}
