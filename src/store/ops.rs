//! What the store operations mean (spec §7.7, §7.8, §7.11): how an API operation becomes a
//! command, how a master applies a command to its backend (Broker's type rules, default
//! values and errors), how a clone applies the master's broadcast to its replica, and the
//! store events both emit. Pure functions over [`Data`]; the backend is the only state.

use super::actor::{Kind, Op};
use super::backend::{Backend, BackendError};
use super::command::{Command, EntityId};
use crate::data::{Address, Data, DataType, Port, Subnet, Timespan, Timestamp};
use crate::wire::ErrorCode;
use std::collections::BTreeMap;

/// An operation's failure: Broker's error code and a message for people.
pub type StoreError = (ErrorCode, String);

fn err<T>(code: ErrorCode, message: impl Into<String>) -> Result<T, StoreError> {
    Err((code, message.into()))
}

impl From<BackendError> for StoreError {
    fn from(e: BackendError) -> StoreError {
        (e.code(), e.message)
    }
}

fn short(d: &Data) -> String {
    let s = String::from_utf8_lossy(&crate::data::text::render(d)).into_owned();
    if s.len() > 80 {
        let mut end = 77;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    } else {
        s
    }
}

/// The value Broker creates for a missing key before an `add` with this `init_type` (spec
/// §7.7): zero, empty, false, `::`, `::/0`, `0/?`, the epoch. `None` for type none.
pub fn default_value(t: DataType) -> Data {
    match t {
        DataType::None => Data::None,
        DataType::Boolean => Data::Boolean(false),
        DataType::Count => Data::Count(0),
        DataType::Integer => Data::Integer(0),
        DataType::Real => Data::Real(0.0),
        DataType::String => Data::String(Vec::new()),
        DataType::Address => Data::Address(Address::default()),
        DataType::Subnet => Data::Subnet(Subnet::default()),
        DataType::Port => Data::Port(Port::default()),
        DataType::Timestamp => Data::Timestamp(Timestamp::default()),
        DataType::Timespan => Data::Timespan(Timespan::default()),
        DataType::Enum => Data::Enum(Vec::new()),
        DataType::Set => Data::Set(Default::default()),
        DataType::Table => Data::Table(Default::default()),
        DataType::Vector => Data::Vector(Vec::new()),
    }
}

/// "a count", "an integer", "an enum-value".
fn with_article(name: &str) -> String {
    let an = name.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {name}", if an { "an" } else { "a" })
}

fn clash<T>(what: &str, target: &Data, arg: &Data) -> Result<T, StoreError> {
    err(
        ErrorCode::TypeClash,
        format!(
            "cannot {what} {} {} {}",
            with_article(arg.data_type().name()),
            if what == "add" { "to" } else { "from" },
            with_article(target.data_type().name())
        ),
    )
}

/// Broker's "add" of `arg` to `target` in place: numbers and timespans of the same type
/// add (wrapping, as C++'s unsigned arithmetic does), a timestamp adds a timespan, a
/// string appends a string, a vector appends, a set inserts, a table takes a `[key, value]`
/// vector. Anything else is a type clash.
pub fn add(target: &mut Data, arg: &Data) -> Result<(), StoreError> {
    match (&mut *target, arg) {
        (Data::Count(a), Data::Count(b)) => *a = a.wrapping_add(*b),
        (Data::Integer(a), Data::Integer(b)) => *a = a.wrapping_add(*b),
        (Data::Real(a), Data::Real(b)) => *a += *b,
        (Data::Timespan(a), Data::Timespan(b)) => a.0 = a.0.wrapping_add(b.0),
        (Data::Timestamp(a), Data::Timespan(b)) => a.0 = a.0.wrapping_add(b.0),
        (Data::String(a), Data::String(b)) => a.extend_from_slice(b),
        (Data::Vector(v), _) => v.push(arg.clone()),
        (Data::Set(s), _) => {
            s.insert(arg.clone());
        }
        (Data::Table(t), Data::Vector(kv)) => {
            let [k, v] = &kv[..] else {
                return err(
                    ErrorCode::InvalidData,
                    format!(
                        "a table takes a [key, value] vector, not {} elements",
                        kv.len()
                    ),
                );
            };
            t.insert(k.clone(), v.clone());
        }
        _ => return clash("add", target, arg),
    }
    Ok(())
}

/// Broker's "subtract" of `arg` from `target` in place: numbers and timespans of the same
/// type subtract, a timestamp subtracts a timespan, a vector loses its last element (`arg`
/// is ignored), a set and a table lose the element or key `arg`. Anything else is a type
/// clash.
pub fn subtract(target: &mut Data, arg: &Data) -> Result<(), StoreError> {
    match (&mut *target, arg) {
        (Data::Count(a), Data::Count(b)) => *a = a.wrapping_sub(*b),
        (Data::Integer(a), Data::Integer(b)) => *a = a.wrapping_sub(*b),
        (Data::Real(a), Data::Real(b)) => *a -= *b,
        (Data::Timespan(a), Data::Timespan(b)) => a.0 = a.0.wrapping_sub(b.0),
        (Data::Timestamp(a), Data::Timespan(b)) => a.0 = a.0.wrapping_sub(b.0),
        (Data::Vector(v), _) => {
            v.pop();
        }
        (Data::Set(s), _) => {
            s.remove(arg);
        }
        (Data::Table(t), _) => {
            t.remove(arg);
        }
        _ => return clash("subtract", target, arg),
    }
    Ok(())
}

/// Broker's `get_index_from_value`: element `index` of a vector (a count, or a
/// non-negative integer), whether a set contains `index`, a table's value at `index`; any
/// other value is returned whole.
pub fn index_value(value: &Data, index: &Data) -> Result<Data, StoreError> {
    match value {
        Data::Vector(v) => {
            let i = match index {
                Data::Count(i) => *i,
                Data::Integer(i) if *i >= 0 => *i as u64,
                _ => {
                    return err(
                        ErrorCode::TypeClash,
                        format!(
                            "a vector is indexed by a count, not a {}",
                            index.data_type().name()
                        ),
                    );
                }
            };
            match usize::try_from(i).ok().and_then(|i| v.get(i)) {
                Some(d) => Ok(d.clone()),
                None => err(
                    ErrorCode::NoSuchKey,
                    format!("index {i} is beyond the vector's {} elements", v.len()),
                ),
            }
        }
        Data::Set(s) => Ok(Data::Boolean(s.contains(index))),
        Data::Table(t) => match t.get(index) {
            Some(d) => Ok(d.clone()),
            None => err(
                ErrorCode::NoSuchKey,
                format!("the table has no key {}", short(index)),
            ),
        },
        other => Ok(other.clone()),
    }
}

/// The `init_type` of Broker's `increment` for an amount: its own type for a count,
/// integer or real, timestamp for a timespan, none otherwise.
pub fn increment_init_type(amount: &Data) -> DataType {
    match amount {
        Data::Count(_) => DataType::Count,
        Data::Integer(_) => DataType::Integer,
        Data::Real(_) => DataType::Real,
        Data::Timespan(_) => DataType::Timestamp,
        _ => DataType::None,
    }
}

/// The command a write operation sends (from a clone) or applies (on a master), as spec
/// §7.8 maps them; `None` for reads and `AwaitIdle`. `who` and `req_id` only matter for
/// put_unique.
pub fn write_command(op: &Op, publisher: EntityId, who: EntityId, req_id: u64) -> Option<Command> {
    let add = |key: &Data, value: Data, init: DataType, expiry: &Option<Timespan>| Command::Add {
        key: key.clone(),
        value,
        init_type: init as u8,
        expiry: *expiry,
        publisher,
    };
    let subtract = |key: &Data, value: Data, expiry: &Option<Timespan>| Command::Subtract {
        key: key.clone(),
        value,
        expiry: *expiry,
        publisher,
    };
    Some(match &op.0 {
        Kind::Put(k, v, e) => Command::Put {
            key: k.clone(),
            value: v.clone(),
            expiry: *e,
            publisher,
        },
        Kind::PutUnique(k, v, e) => Command::PutUnique {
            key: k.clone(),
            value: v.clone(),
            expiry: *e,
            who,
            req_id,
            publisher,
        },
        Kind::Erase(k) => Command::Erase {
            key: k.clone(),
            publisher,
        },
        Kind::Clear => Command::Clear { publisher },
        Kind::Increment(k, amount, e) => add(k, amount.clone(), increment_init_type(amount), e),
        Kind::Decrement(k, amount, e) => subtract(k, amount.clone(), e),
        Kind::Append(k, s, e) => add(k, s.clone(), DataType::String, e),
        Kind::InsertInto(k, index, None, e) => add(k, index.clone(), DataType::Set, e),
        Kind::InsertInto(k, index, Some(v), e) => add(
            k,
            Data::Vector(vec![index.clone(), v.clone()]),
            DataType::Table,
            e,
        ),
        Kind::RemoveFrom(k, index, e) => subtract(k, index.clone(), e),
        Kind::Push(k, v, e) => add(k, v.clone(), DataType::Vector, e),
        Kind::Pop(k, e) => subtract(k, k.clone(), e),
        Kind::Exists(_)
        | Kind::Get(_)
        | Kind::GetIndexFromValue(..)
        | Kind::Keys
        | Kind::AwaitIdle => {
            return None;
        }
    })
}

/// Answers a read from a key/value view (a master's backend or a clone's replica); `None`
/// for writes.
pub fn read(
    op: &Op,
    get: impl Fn(&Data) -> Result<Option<Data>, StoreError>,
    keys: impl Fn() -> Result<Vec<Data>, StoreError>,
) -> Option<Result<Data, StoreError>> {
    let missing = |k: &Data| (ErrorCode::NoSuchKey, format!("no key {}", short(k)));
    Some(match &op.0 {
        Kind::Exists(k) => get(k).map(|v| Data::Boolean(v.is_some())),
        Kind::Get(k) => get(k).and_then(|v| v.ok_or_else(|| missing(k))),
        Kind::GetIndexFromValue(k, index) => get(k)
            .and_then(|v| v.ok_or_else(|| missing(k)))
            .and_then(|v| index_value(&v, index)),
        Kind::Keys => keys().map(|ks| Data::Set(ks.into_iter().collect())),
        _ => return None,
    })
}

/// A change to the master's expiry timers.
#[derive(Clone, Debug, PartialEq)]
pub enum TimerChange {
    None,
    /// Expire `key` once the clock passes this time.
    Set(Data, Timestamp),
    /// `key` no longer expires (or no longer exists).
    Remove(Data),
    /// No key expires any more.
    RemoveAll,
}

/// What applying one command on a master did.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    /// The commands to produce on the output channel, in order.
    pub broadcast: Vec<Command>,
    /// Store events (spec §7.11), in order.
    pub events: Vec<Data>,
    pub timer: TimerChange,
    /// put_unique's answer.
    pub inserted: Option<bool>,
}

impl Applied {
    fn new() -> Applied {
        Applied {
            broadcast: Vec::new(),
            events: Vec::new(),
            timer: TimerChange::None,
            inserted: None,
        }
    }
}

fn expiry_time(now: Timestamp, expiry: Option<Timespan>) -> Option<Timestamp> {
    expiry.map(|e| Timestamp(now.0.saturating_add(e.0)))
}

fn timer_for(key: &Data, at: Option<Timestamp>) -> TimerChange {
    match at {
        Some(t) => TimerChange::Set(key.clone(), t),
        None => TimerChange::Remove(key.clone()),
    }
}

/// Applies an action on the master (spec §7.7): changes `backend`, and says what to
/// broadcast, which events to emit and how the timers change. A failure changes nothing
/// and broadcasts nothing; for a put_unique the caller still broadcasts
/// [`put_unique_failure`], as Broker answers "not inserted".
///
/// `master` is the master's entity, publisher of put_unique_result. Expire and the control
/// commands are not actions a writer sends; they change nothing.
pub fn apply_at_master(
    backend: &mut dyn Backend,
    name: &[u8],
    now: Timestamp,
    master: EntityId,
    cmd: Command,
) -> Result<Applied, StoreError> {
    let mut a = Applied::new();
    match cmd {
        Command::Put {
            key,
            value,
            expiry,
            publisher,
        } => {
            let at = expiry_time(now, expiry);
            let old = backend.put(key.clone(), value.clone(), at)?;
            a.timer = timer_for(&key, at);
            a.events.push(match old {
                Some(old) => update_event(name, &key, &old, &value, expiry, publisher),
                None => insert_event(name, &key, &value, expiry, publisher),
            });
            a.broadcast.push(Command::Put {
                key,
                value,
                expiry,
                publisher,
            });
        }
        Command::PutUnique {
            key,
            value,
            expiry,
            who,
            req_id,
            publisher,
        } => {
            let result = |inserted| Command::PutUniqueResult {
                inserted,
                who,
                req_id,
                publisher: master,
            };
            if backend.exists(&key)? {
                a.inserted = Some(false);
                a.broadcast.push(result(false));
                return Ok(a);
            }
            let at = expiry_time(now, expiry);
            backend.put(key.clone(), value.clone(), at)?;
            a.timer = timer_for(&key, at);
            a.inserted = Some(true);
            a.events
                .push(insert_event(name, &key, &value, expiry, publisher));
            a.broadcast.push(Command::Put {
                key,
                value,
                expiry,
                publisher,
            });
            a.broadcast.push(result(true));
        }
        Command::Erase { key, publisher } => {
            if backend.erase(&key)?.is_none() {
                // Nothing to erase: no event, no broadcast.
                return Ok(a);
            }
            a.timer = TimerChange::Remove(key.clone());
            a.events.push(erase_event(name, &key, publisher));
            a.broadcast.push(Command::Erase { key, publisher });
        }
        Command::Add {
            key,
            value,
            init_type,
            expiry,
            publisher,
        } => {
            let old = backend.get(&key)?;
            let mut new = match &old {
                Some(v) => v.clone(),
                None => default_value(DataType::from_tag(init_type).unwrap_or(DataType::None)),
            };
            if old.is_none() && init_type == DataType::None as u8 {
                return err(
                    ErrorCode::TypeClash,
                    format!("no key {} and no type to create it with", short(&key)),
                );
            }
            add(&mut new, &value)?;
            let at = expiry_time(now, expiry);
            backend.put(key.clone(), new.clone(), at)?;
            a.timer = timer_for(&key, at);
            a.events.push(match &old {
                Some(old) => update_event(name, &key, old, &new, None, publisher),
                None => insert_event(name, &key, &new, None, publisher),
            });
            a.broadcast.push(Command::Put {
                key,
                value: new,
                expiry: None,
                publisher,
            });
        }
        Command::Subtract {
            key,
            value,
            expiry,
            publisher,
        } => {
            let Some(old) = backend.get(&key)? else {
                return err(ErrorCode::NoSuchKey, format!("no key {}", short(&key)));
            };
            let mut new = old.clone();
            subtract(&mut new, &value)?;
            let at = expiry_time(now, expiry);
            backend.put(key.clone(), new.clone(), at)?;
            a.timer = timer_for(&key, at);
            a.events
                .push(update_event(name, &key, &old, &new, None, publisher));
            a.broadcast.push(Command::Put {
                key,
                value: new,
                expiry: None,
                publisher,
            });
        }
        Command::Clear { publisher } => {
            let keys = backend.keys()?;
            backend.clear()?;
            a.timer = TimerChange::RemoveAll;
            a.events
                .extend(keys.iter().map(|k| erase_event(name, k, publisher)));
            a.broadcast.push(Command::Clear { publisher });
        }
        _ => {}
    }
    Ok(a)
}

/// The negative put_unique_result a master broadcasts when `cmd`, a put_unique, failed in
/// its backend (Broker answers "not inserted" rather than nothing); `None` for other
/// commands.
pub fn put_unique_failure(cmd: &Command, master: EntityId) -> Option<Command> {
    match cmd {
        Command::PutUnique { who, req_id, .. } => Some(Command::PutUniqueResult {
            inserted: false,
            who: *who,
            req_id: *req_id,
            publisher: master,
        }),
        _ => None,
    }
}

/// Applies a master's broadcast action to a clone's replica and returns the store events.
/// put_unique_result and control commands change nothing.
pub fn apply_at_clone(replica: &mut BTreeMap<Data, Data>, name: &[u8], cmd: &Command) -> Vec<Data> {
    match cmd {
        Command::Put {
            key,
            value,
            expiry,
            publisher,
        } => match replica.insert(key.clone(), value.clone()) {
            Some(old) => vec![update_event(name, key, &old, value, *expiry, *publisher)],
            None => vec![insert_event(name, key, value, *expiry, *publisher)],
        },
        Command::Erase { key, publisher } => match replica.remove(key) {
            Some(_) => vec![erase_event(name, key, *publisher)],
            None => Vec::new(),
        },
        Command::Expire { key, publisher } => match replica.remove(key) {
            Some(_) => vec![expire_event(name, key, *publisher)],
            None => Vec::new(),
        },
        Command::Clear { publisher } => {
            let events = replica
                .keys()
                .map(|k| erase_event(name, k, *publisher))
                .collect();
            replica.clear();
            events
        }
        _ => Vec::new(),
    }
}

/// Replaces a clone's replica by a snapshot and returns events for the differences: erase
/// (publisher none) for keys that are gone, update for changed values, insert for new keys,
/// all with the master as publisher and no expiry. Unchanged keys give no event (Broker
/// emits an update for every key present before and after).
pub fn replace_replica(
    replica: &mut BTreeMap<Data, Data>,
    name: &[u8],
    state: Vec<(Data, Data)>,
    master: EntityId,
) -> Vec<Data> {
    let new: BTreeMap<Data, Data> = state.into_iter().collect();
    let mut events = Vec::new();
    for k in replica.keys() {
        if !new.contains_key(k) {
            events.push(erase_event(name, k, EntityId::nil()));
        }
    }
    for (k, v) in &new {
        match replica.get(k) {
            Some(old) if old == v => {}
            Some(old) => events.push(update_event(name, k, old, v, None, master)),
            None => events.push(insert_event(name, k, v, None, master)),
        }
    }
    *replica = new;
    events
}

fn publisher_fields(p: EntityId) -> [Data; 2] {
    if p.is_nil() {
        [Data::None, Data::None]
    } else {
        [Data::string(p.endpoint.to_string()), Data::Count(p.object)]
    }
}

fn expiry_field(e: Option<Timespan>) -> Data {
    e.map_or(Data::None, Data::Timespan)
}

fn event(fields: Vec<Data>, publisher: EntityId) -> Data {
    let mut v = fields;
    v.extend(publisher_fields(publisher));
    Data::Vector(v)
}

/// `["insert", store, key, value, expiry, publisher endpoint, publisher object]`.
pub fn insert_event(
    name: &[u8],
    key: &Data,
    value: &Data,
    expiry: Option<Timespan>,
    publisher: EntityId,
) -> Data {
    event(
        vec![
            Data::string("insert"),
            Data::string(name),
            key.clone(),
            value.clone(),
            expiry_field(expiry),
        ],
        publisher,
    )
}

/// `["update", store, key, old value, new value, expiry, publisher endpoint, publisher
/// object]`.
pub fn update_event(
    name: &[u8],
    key: &Data,
    old: &Data,
    new: &Data,
    expiry: Option<Timespan>,
    publisher: EntityId,
) -> Data {
    event(
        vec![
            Data::string("update"),
            Data::string(name),
            key.clone(),
            old.clone(),
            new.clone(),
            expiry_field(expiry),
        ],
        publisher,
    )
}

/// `["erase", store, key, publisher endpoint, publisher object]`.
pub fn erase_event(name: &[u8], key: &Data, publisher: EntityId) -> Data {
    event(
        vec![Data::string("erase"), Data::string(name), key.clone()],
        publisher,
    )
}

/// `["expire", store, key, publisher endpoint, publisher object]`.
pub fn expire_event(name: &[u8], key: &Data, publisher: EntityId) -> Data {
    event(
        vec![Data::string("expire"), Data::string(name), key.clone()],
        publisher,
    )
}

/// The topic of a store's events: `<$>/local/data/store-events/<name>`.
pub fn events_topic(name: &[u8]) -> Vec<u8> {
    let mut t = b"<$>/local/data/store-events/".to_vec();
    t.extend_from_slice(name);
    t
}
