//! `brook logger`: an external log node for Zeek. Subscribes to `zeek/logs/`, reads the
//! `LogCreate`s and `LogWrite`s (also inside batches) that Zeek nodes with
//! `Log::enable_remote_logging` send, and writes each path to `<dir>/<path>.log` in Zeek's
//! ASCII format: TSV with Zeek's header lines, or JSON lines with `--json`
//! (`LogAscii::use_json`). Records are rendered by `brook::data::zeek_log::ascii`; this file
//! does the file I/O.
//!
//! Nothing is lost silently: a record that cannot be decoded, one for a stream whose
//! `LogCreate` never came, and one whose write to disk failed are each counted, reported on
//! stderr (the first of each kind per path), summed up at exit, and make the exit status 1.
//! Not yet done (issue 16): rotation, a bounded write-behind thread, the ZeroMQ backend.

use crate::common::{self, Result};
use brook::data::zeek::Message;
use brook::data::zeek_log::{LogRecord, Stream, ascii};
use brook::{Endpoint, Subscriber};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Zeek nodes (or other peers) to peer with: host:port, comma-separated or repeated.
    #[arg(short, long, value_name = "HOST:PORT")]
    peers: Vec<String>,
    /// Port to listen on for Zeek nodes (0: any free port, reported on stderr).
    #[arg(short, long, value_name = "PORT")]
    listen: Option<u16>,
    /// Directory for the log files (created if missing).
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    dir: PathBuf,
    /// Write JSON lines, as Zeek's ASCII writer with LogAscii::use_json = T.
    #[arg(long)]
    json: bool,
    /// Topic prefix to subscribe to.
    #[arg(short, long, default_value = "zeek/logs/")]
    topic: String,
    /// Exit after this many records (for scripts and tests); Ctrl-C otherwise.
    #[arg(short = 'c', long, value_name = "N")]
    count: Option<u64>,
    /// Also append each received message's bin-v1 payload, as a 4-byte big-endian length
    /// and the bytes, to this file (to capture test data).
    #[arg(long, value_name = "FILE", hide = true)]
    capture: Option<PathBuf>,
    #[command(flatten)]
    endpoint: common::EndpointArgs,
}

/// Failures by kind, for the summary and the exit status.
#[derive(Default, Debug)]
struct Losses {
    undecodable: u64,
    unknown_stream: u64,
    write_failed: u64,
}

struct LogFile {
    out: BufWriter<File>,
    name: PathBuf,
    stream: Stream,
    failed: bool,
}

struct Logger {
    dir: PathBuf,
    json: bool,
    streams: HashMap<String, Stream>,
    files: HashMap<Vec<u8>, LogFile>,
    written: u64,
    losses: Losses,
}

/// Local time as Zeek's writer stamps `#open`/`#close`: `%Y-%m-%d-%H-%M-%S`.
fn stamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as libc::time_t;
    // SAFETY: localtime_r writes only into `tm`, which outlives the call.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&now, &mut tm) }.is_null() {
        return "1970-01-01-00-00-00".into();
    }
    format!(
        "{:04}-{:02}-{:02}-{:02}-{:02}-{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

impl Logger {
    fn handle(&mut self, m: Message) {
        match m {
            Message::LogCreate(c) => match Stream::from_create(&c) {
                Ok(s) => {
                    self.streams.insert(s.stream_id.clone(), s);
                }
                Err(e) => {
                    self.losses.undecodable += 1;
                    common::note(format_args!("bad log create for {}: {e}", c.stream_id));
                }
            },
            Message::LogWrite(w) => {
                let Some(stream) = self.streams.get(&w.stream_id) else {
                    if self.losses.unknown_stream == 0 {
                        common::note(format_args!(
                            "a log write for stream {} before its log create: not written (counted)",
                            w.stream_id
                        ));
                    }
                    self.losses.unknown_stream += 1;
                    return;
                };
                match stream.record(&w) {
                    Ok(r) => self.write(r),
                    Err(e) => {
                        if self.losses.undecodable == 0 {
                            common::note(format_args!(
                                "undecodable log write on {}: {e}",
                                w.stream_id
                            ));
                        }
                        self.losses.undecodable += 1;
                    }
                }
            }
            Message::Batch(ms) => ms.into_iter().for_each(|m| self.handle(m)),
            Message::Event(_) | Message::IdentifierUpdate(_) => {}
        }
    }

    fn write(&mut self, r: LogRecord) {
        if !self.files.contains_key(&r.path) {
            // The stream is there: the record was checked against it.
            let Some(stream) = self.streams.get(&r.stream_id) else {
                return;
            };
            match self.open(stream, &r.path) {
                Ok(f) => {
                    self.files.insert(r.path.clone(), f);
                }
                Err(e) => {
                    if self.losses.write_failed == 0 {
                        common::note(format_args!(
                            "cannot open the log for {}: {e}",
                            String::from_utf8_lossy(&r.path)
                        ));
                    }
                    self.losses.write_failed += 1;
                    return;
                }
            }
        }
        let Some(f) = self.files.get_mut(&r.path) else {
            return;
        };
        let line = if self.json {
            ascii::json_line(&f.stream.fields, &r.values)
        } else {
            ascii::tsv_line(&r.values)
        };
        match f.out.write_all(&line) {
            Ok(()) => self.written += 1,
            Err(e) => {
                if !f.failed {
                    common::note(format_args!("error writing to {}: {e}", f.name.display()));
                    f.failed = true;
                }
                self.losses.write_failed += 1;
            }
        }
    }

    fn open(&self, stream: &Stream, path: &[u8]) -> std::io::Result<LogFile> {
        let rel = String::from_utf8_lossy(path).into_owned();
        if rel.contains("..") || rel.starts_with('/') {
            return Err(std::io::Error::other("the path leaves the log directory"));
        }
        let name = self.dir.join(format!("{rel}.log"));
        let mut out = BufWriter::with_capacity(1 << 16, File::create(&name)?);
        if !self.json {
            out.write_all(&ascii::tsv_header(path, &stream.fields, &stamp()))?;
        }
        Ok(LogFile {
            out,
            name,
            stream: stream.clone(),
            failed: false,
        })
    }

    /// Hands buffered lines to the kernel; a failure is counted as one lost write per file.
    fn flush(&mut self) {
        for f in self.files.values_mut() {
            if let Err(e) = f.out.flush() {
                if !f.failed {
                    common::note(format_args!("error writing to {}: {e}", f.name.display()));
                    f.failed = true;
                }
                self.losses.write_failed += 1;
            }
        }
    }

    fn close(&mut self) {
        let close = stamp();
        for f in self.files.values_mut() {
            if !self.json {
                let _ = f.out.write_all(&ascii::tsv_footer(&close));
            }
        }
        self.flush();
        self.files.clear();
    }
}

pub fn run(args: Args) -> Result<()> {
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| format!("cannot create {}: {e}", args.dir.display()))?;
    let ep = Endpoint::new(args.endpoint.config()?)?;
    common::print_status_events(&ep)?;
    common::catch_interrupts();
    let sub = ep.subscribe(&[&args.topic])?;
    if let Some(port) = args.listen {
        common::listen(&ep, "", port)?;
    }
    common::peer_all(&ep, &common::split_list(&args.peers))?;
    let mut capture = match &args.capture {
        Some(p) => Some(BufWriter::new(File::create(p)?)),
        None => None,
    };
    let mut logger = Logger {
        dir: args.dir.clone(),
        json: args.json,
        streams: HashMap::new(),
        files: HashMap::new(),
        written: 0,
        losses: Losses::default(),
    };
    let cap = args.count.unwrap_or(u64::MAX);
    let result = receive(&sub, &mut logger, &mut capture, cap);
    logger.close();
    if let Some(c) = capture.as_mut() {
        c.flush()?;
    }
    drop(sub);
    ep.shutdown();
    result?;
    let l = &logger.losses;
    common::note(format_args!(
        "wrote {} records; not written: {} undecodable, {} without a log create, {} failed writes",
        logger.written, l.undecodable, l.unknown_stream, l.write_failed
    ));
    if l.undecodable + l.unknown_stream + l.write_failed > 0 {
        return Err("some log records were not written".into());
    }
    Ok(())
}

fn receive(
    sub: &Subscriber,
    logger: &mut Logger,
    capture: &mut Option<BufWriter<File>>,
    cap: u64,
) -> Result<()> {
    while logger.written < cap && !common::interrupted() {
        let Some(first) = sub.get(Some(Duration::from_millis(200)))? else {
            continue;
        };
        for m in std::iter::once(first).chain(sub.poll(1024)) {
            if let Some(c) = capture.as_mut() {
                c.write_all(&(m.payload().len() as u32).to_be_bytes())?;
                c.write_all(m.payload())?;
            }
            match m.data().and_then(Message::try_from) {
                Ok(msg) => logger.handle(msg),
                Err(e) => {
                    if logger.losses.undecodable == 0 {
                        common::note(format_args!("skipped a message: {e}"));
                    }
                    logger.losses.undecodable += 1;
                }
            }
        }
        logger.flush();
    }
    Ok(())
}
