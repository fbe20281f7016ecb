//! A clone's writes: handing them to the writer channel (or holding them while there is no
//! master), and answering each once its outcome is known from the master's broadcasts
//! (the module doc of `clone` says how the outcome is inferred).

use super::*;

/// A write on the writer channel, in sequence order.
pub(super) struct Pending {
    /// The request to answer.
    pub(super) id: u64,
    pub(super) cmd: Command,
    pub(super) seq: u64,
    /// The master acknowledged it; its result is among the broadcasts up to `bound`.
    pub(super) acked: bool,
    pub(super) bound: u64,
    /// The input channel's tick count when the master acknowledged it.
    pub(super) acked_heard: u64,
    /// put_unique's result, once it arrived.
    pub(super) inserted: Option<bool>,
    /// Answered before its outcome was known (the master was gone too long). It is still
    /// resolved in turn, silently, so that its broadcast is not taken for a later write's.
    pub(super) answered: bool,
}

/// A write waiting for a master.
pub(super) struct Stalled {
    pub(super) id: u64,
    pub(super) cmd: Command,
    pub(super) deadline: Timestamp,
}

/// A broadcast of this clone's own write, with the key's value just before it.
pub(super) struct OwnEvent {
    pub(super) cmd: Command,
    pub(super) before: Option<Data>,
}

impl Clone {
    pub(super) fn write(
        &mut self,
        now: Timestamp,
        id: u64,
        cmd: Command,
        out: &mut Vec<StoreOutput>,
    ) {
        if self.detached_since.is_none()
            && let Some(w) = self.writer.as_mut()
            && !w.paths().is_empty()
        {
            let seq = w.next_seq();
            let outs = w.produce(cmd.clone());
            self.writes.push_back(Pending {
                id,
                cmd,
                seq,
                acked: false,
                bound: 0,
                acked_heard: 0,
                inserted: None,
                answered: false,
            });
            self.on_writer(outs, out);
            return;
        }
        if self.config.mutation_buffer_interval.is_zero() {
            self.fail_write(id, &cmd, no_master(), out);
            return;
        }
        self.stalled.push_back(Stalled {
            id,
            cmd,
            deadline: after(now, self.config.mutation_buffer_interval),
        });
    }

    pub(super) fn flush_stalled(&mut self, now: Timestamp, out: &mut Vec<StoreOutput>) {
        for s in std::mem::take(&mut self.stalled) {
            self.write(now, s.id, s.cmd, out);
        }
    }

    pub(super) fn fail_write(
        &mut self,
        id: u64,
        cmd: &Command,
        e: StoreError,
        out: &mut Vec<StoreOutput>,
    ) {
        if let Command::PutUnique { who, req_id, .. } = cmd {
            self.unique.remove(&(*who, *req_id));
        }
        out.push(StoreOutput::Reply { id, result: Err(e) });
    }

    /// Marks the writes the master acknowledged.
    pub(super) fn on_writer_ack(&mut self) {
        let Some(acked) = self
            .writer
            .as_ref()
            .and_then(|w| w.paths().first().map(|p| p.acked))
        else {
            return;
        };
        let bound = self.input_highest();
        let heard = self.input.heard();
        for p in self
            .writes
            .iter_mut()
            .filter(|p| !p.acked && p.seq <= acked)
        {
            p.acked = true;
            p.bound = bound;
            p.acked_heard = heard;
        }
    }

    /// Answers the acknowledged writes whose results the replica has applied, in order.
    pub(super) fn resolve(&mut self, out: &mut Vec<StoreOutput>) {
        while let Some(p) = self.writes.front() {
            if !p.acked || !self.input.is_initialized() || self.input.next_seq() <= p.bound {
                break;
            }
            if !p.answered && !self.outcome_seen(p) && !self.nothing_missing_since_ack(p) {
                break;
            }
            let Some(p) = self.writes.pop_front() else {
                break;
            };
            self.resolve_one(p, out);
        }
        if self.writes.is_empty() {
            self.own_events.clear();
        }
    }

    /// Whether the broadcasts received show how an acknowledged write went: its result
    /// (put_unique) or the change it made, next among this clone's own.
    pub(super) fn outcome_seen(&self, p: &Pending) -> bool {
        let head = self.own_events.front().map(|e| (&e.cmd, e.before.as_ref()));
        match (&p.cmd, head) {
            (Command::PutUnique { .. }, _) => p.inserted.is_some(),
            (
                Command::Put { key, value, .. },
                Some((
                    Command::Put {
                        key: k, value: v, ..
                    },
                    _,
                )),
            ) => k == key && v == value,
            (Command::Clear { .. }, Some((Command::Clear { .. }, _))) => true,
            (
                Command::Add { key, .. } | Command::Subtract { key, .. },
                Some((Command::Put { key: k, value, .. }, before)),
            ) => k == key && predict(&p.cmd, before).ok().as_ref() == Some(value),
            (Command::Put { .. } | Command::Clear { .. } | Command::Add { .. }, _)
            | (Command::Subtract { .. }, _) => false,
            _ => true,
        }
    }

    /// Whether a write's missing broadcast (a failure at the master, or a lost message)
    /// can be taken as a failure. The master broadcasts a write's change or result before
    /// it acks it, so when that broadcast is lost the ack comes first, and the gap shows
    /// only with the master's next message (a keepalive within a heartbeat interval). So
    /// wait until the master spoke after the ack with nothing missing on the input channel
    /// and the master there (while it is lost no keepalive shows the gap; the wait starts
    /// again when it is back). Then a retransmission has filled any gap, or there was none.
    pub(super) fn nothing_missing_since_ack(&self, p: &Pending) -> bool {
        self.detached_since.is_none() && self.input.is_idle() && self.input.heard() > p.acked_heard
    }

    pub(super) fn resolve_one(&mut self, p: Pending, out: &mut Vec<StoreOutput>) {
        let head = self.own_events.front();
        let result: Result<(), StoreError> = match &p.cmd {
            Command::PutUnique { key, value, .. } => {
                if p.inserted == Some(true)
                    && matches!(head, Some(OwnEvent { cmd: Command::Put { key: k, value: v, .. }, .. })
                        if k == key && v == value)
                {
                    self.own_events.pop_front();
                }
                if p.inserted.is_none() && !p.answered {
                    let e = (
                        ErrorCode::Unspecified,
                        "the master acknowledged put_unique but sent no result".to_string(),
                    );
                    self.fail_write(p.id, &p.cmd, e, out);
                }
                // Otherwise answered by its result.
                return;
            }
            Command::Put { key, value, .. } => {
                if matches!(head, Some(OwnEvent { cmd: Command::Put { key: k, value: v, .. }, .. })
                    if k == key && v == value)
                {
                    self.own_events.pop_front();
                    Ok(())
                } else {
                    Err((
                        ErrorCode::BackendFailure,
                        "the master did not store it".to_string(),
                    ))
                }
            }
            Command::Erase { key, .. } => {
                if matches!(head, Some(OwnEvent { cmd: Command::Erase { key: k, .. }, .. }) if k == key)
                {
                    self.own_events.pop_front();
                }
                Ok(())
            }
            Command::Clear { .. } => {
                if matches!(
                    head,
                    Some(OwnEvent {
                        cmd: Command::Clear { .. },
                        ..
                    })
                ) {
                    self.own_events.pop_front();
                    Ok(())
                } else {
                    Err((
                        ErrorCode::BackendFailure,
                        "the master did not clear the store".to_string(),
                    ))
                }
            }
            Command::Add { key, .. } | Command::Subtract { key, .. } => {
                let matched = match head {
                    Some(OwnEvent {
                        cmd: Command::Put { key: k, value, .. },
                        before,
                    }) if k == key => predict(&p.cmd, before.as_ref()).ok().as_ref() == Some(value),
                    _ => false,
                };
                if matched {
                    self.own_events.pop_front();
                    Ok(())
                } else {
                    // The error the master saw, recomputed from the value it had then (the
                    // head's, when it is for this key) or from the replica's.
                    let before = match head {
                        Some(OwnEvent {
                            cmd: Command::Put { key: k, .. },
                            before,
                        }) if k == key => before.clone(),
                        _ => self.replica.get(key).cloned(),
                    };
                    match predict(&p.cmd, before.as_ref()) {
                        Err(e) => Err(e),
                        Ok(_) => Err((
                            ErrorCode::BackendFailure,
                            "the master did not apply it".to_string(),
                        )),
                    }
                }
            }
            _ => Ok(()),
        };
        if p.answered {
            return;
        }
        match result {
            Ok(()) => out.push(StoreOutput::Reply {
                id: p.id,
                result: Ok(Data::None),
            }),
            Err((code, message)) => {
                let key = write_key(&p.cmd).map_or(String::new(), |k| {
                    format!(
                        " on {}",
                        String::from_utf8_lossy(&crate::data::text::render(k))
                    )
                });
                self.status(
                    out,
                    code,
                    format!("{}{key} failed at the master: {message}", p.cmd.name()),
                );
                out.push(StoreOutput::Reply {
                    id: p.id,
                    result: Err((code, message)),
                });
            }
        }
    }

    // ---- master lost, found, replaced ----

    pub(super) fn abandon_writes(&mut self, out: &mut Vec<StoreOutput>) {
        for p in std::mem::take(&mut self.writes) {
            self.give_up(&p, "the master went away", out);
        }
        self.own_events.clear();
    }

    /// Answers the writes in flight once the master has been gone for the mutation buffer
    /// interval. They stay on the writer channel (see [`Pending::answered`]).
    pub(super) fn expire_writes(&mut self, now: Timestamp, out: &mut Vec<StoreOutput>) {
        let Some(since) = self.detached_since else {
            return;
        };
        if now < after(since, self.config.mutation_buffer_interval)
            || self.writes.iter().all(|p| p.answered)
        {
            return;
        }
        let mut writes = std::mem::take(&mut self.writes);
        let mut n = 0;
        for p in writes.iter_mut().filter(|p| !p.answered) {
            self.give_up(
                p,
                "the master was gone for the mutation buffer interval",
                out,
            );
            p.answered = true;
            n += 1;
        }
        self.writes = writes;
        self.status(
            out,
            ErrorCode::RequestTimeout,
            format!(
                "the master has been gone for the mutation buffer interval; stopped waiting \
                 for the {n} writes in flight (unacknowledged ones fail with request_timeout)"
            ),
        );
    }

    /// Answers a write whose outcome will not be known: acknowledged ones succeeded, the
    /// others may or may not have reached the master.
    pub(super) fn give_up(&mut self, p: &Pending, why: &str, out: &mut Vec<StoreOutput>) {
        let put_unique = matches!(p.cmd, Command::PutUnique { .. });
        if p.answered || (put_unique && p.inserted.is_some()) {
            // Answered already; put_unique maybe by its result.
            return;
        }
        if p.acked && !put_unique {
            out.push(StoreOutput::Reply {
                id: p.id,
                result: Ok(Data::None),
            });
            return;
        }
        let what = if p.acked {
            "before its result arrived"
        } else {
            "before acknowledging this write"
        };
        let e = (
            ErrorCode::RequestTimeout,
            format!("{why} {what}; it may or may not have been applied"),
        );
        self.fail_write(p.id, &p.cmd, e, out);
    }
}

pub(super) fn no_master() -> StoreError {
    (
        ErrorCode::NoSuchMaster,
        "no master took this write within the mutation buffer interval".to_string(),
    )
}

pub(super) fn write_key(cmd: &Command) -> Option<&Data> {
    match cmd {
        Command::Put { key, .. }
        | Command::PutUnique { key, .. }
        | Command::Erase { key, .. }
        | Command::Add { key, .. }
        | Command::Subtract { key, .. } => Some(key),
        _ => None,
    }
}

/// The value an add or subtract leaves when the key had `before`, as the master computes
/// it.
pub(super) fn predict(cmd: &Command, before: Option<&Data>) -> Result<Data, StoreError> {
    match cmd {
        Command::Add {
            key,
            value,
            init_type,
            ..
        } => {
            let mut v = match before {
                Some(b) => b.clone(),
                None if *init_type == DataType::None as u8 => {
                    return Err((
                        ErrorCode::TypeClash,
                        format!(
                            "no key {} and no type to create it with",
                            String::from_utf8_lossy(&crate::data::text::render(key))
                        ),
                    ));
                }
                None => {
                    ops::default_value(DataType::from_tag(*init_type).unwrap_or(DataType::None))
                }
            };
            ops::add(&mut v, value)?;
            Ok(v)
        }
        Command::Subtract { key, value, .. } => {
            let Some(b) = before else {
                return Err((
                    ErrorCode::NoSuchKey,
                    format!(
                        "no key {}",
                        String::from_utf8_lossy(&crate::data::text::render(key))
                    ),
                ));
            };
            let mut v = b.clone();
            ops::subtract(&mut v, value)?;
            Ok(v)
        }
        _ => Err((ErrorCode::Unspecified, "not an add or subtract".to_string())),
    }
}
