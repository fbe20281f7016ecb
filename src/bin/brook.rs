//! `brook`: Broker's command-line tools as subcommands of one binary, with their options, so
//! that scripts switch by name: `brook pipe` (broker-pipe), `brook throughput`
//! (broker-throughput) and `brook node` (broker-node's relay, ping and pong modes).
//!
//! Exit status: 0 on success; 1 on a usage error or a failure, with `brook: <error>` (or
//! clap's usage message) on stderr.

// A binary's root file finds its modules next to it, not in a directory of its name.
#[path = "brook/common.rs"]
mod common;
#[path = "brook/logger.rs"]
mod logger;
#[path = "brook/node.rs"]
mod node;
#[path = "brook/pipe.rs"]
mod pipe;
#[path = "brook/throughput.rs"]
mod throughput;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "brook",
    version,
    about = "Zeek Broker tools: pipe, throughput, node, logger",
    after_help = "Every subcommand also takes Broker's options in their long form, such as \
                  --broker.ssl.cafile=PATH or --broker.peer-buffer-size=4096, and brook's \
                  own: --brook.max-frame-size=BYTES, --brook.listen-backlog=N."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Publish stdin lines to a topic, or print a topic's messages (broker-pipe).
    Pipe(pipe::Args),
    /// Measure events per second between a client and a server (broker-throughput).
    Throughput(throughput::Args),
    /// Relay, ping or pong node for round-trip measurements (broker-node).
    Node(node::Args),
    /// Write the logs Zeek nodes send to files in Zeek's ASCII format (an external log node).
    Logger(logger::Args),
}

fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Err(e) = common::take_broker_options(&mut args) {
        eprintln!("brook: {e}");
        return ExitCode::FAILURE;
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; usage errors fail with 1,
            // as Broker's tools do.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Pipe(args) => pipe::run(args),
        Command::Throughput(args) => throughput::run(args),
        Command::Node(args) => node::run(args),
        Command::Logger(args) => logger::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A closed stdout (`brook pipe ... | head`) ends the output; it is not a failure.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("brook: {e}");
            ExitCode::FAILURE
        }
    }
}
