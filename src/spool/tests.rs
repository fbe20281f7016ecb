//! The spool on real files in a scratch directory: order, delivery marks across reopening,
//! torn and corrupted tails, both policies of a full spool, lanes, the lock.

use super::*;
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("brook-spool-unit-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn options(dir: &std::path::Path) -> SpoolOptions {
    SpoolOptions {
        dir: Some(dir.to_path_buf()),
        ..SpoolOptions::default()
    }
}

/// A fake frame: what the spool keeps is opaque to it.
fn frame(i: u64) -> Vec<u8> {
    format!("frame number {i:06}").into_bytes()
}

/// Reads every record `lane` has now, marking none delivered.
fn read_all(s: &mut Spool, lane: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Next::Record { frame, len, .. } = s.next(lane) {
        out.push(frame.to_vec());
        s.advance(lane, len);
    }
    out
}

fn segments(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("all"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "seg")
        })
        .count()
}

#[test]
fn records_come_back_in_order_and_delivered_ones_stay_delivered_across_reopening() {
    let dir = scratch("order");
    let mut s = Spool::open(&options(&dir)).unwrap().unwrap();
    let lane = s.lane_for(b"/any/topic").unwrap();
    for i in 0..10 {
        s.append(lane, b"/any/topic", &frame(i));
    }
    assert_eq!(
        read_all(&mut s, lane),
        Vec::<Vec<u8>>::new(),
        "not flushed yet"
    );
    s.flush();
    let got = read_all(&mut s, lane);
    assert_eq!(got, (0..10).map(frame).collect::<Vec<_>>());
    // The first four were written to a socket; the rest were only sent.
    s.rewind(lane);
    for _ in 0..4 {
        let Next::Record { len, .. } = s.next(lane) else {
            panic!()
        };
        s.advance(lane, len);
    }
    let pos = s.cursor(lane);
    s.delivered(lane, pos);
    s.save();
    assert_eq!(s.stats().records, 6);
    drop(s);
    let mut s = Spool::open(&options(&dir)).unwrap().unwrap();
    assert_eq!(read_all(&mut s, 0), (4..10).map(frame).collect::<Vec<_>>());
    // New records follow the old ones.
    s.append(0, b"/t", &frame(10));
    s.flush();
    assert_eq!(read_all(&mut s, 0), vec![frame(10)]);
    assert_eq!(s.stats().spooled, 1);
    drop(s);
    // Nothing marked delivered in that run: all seven again (at least once).
    let mut s = Spool::open(&options(&dir)).unwrap().unwrap();
    assert_eq!(read_all(&mut s, 0), (4..11).map(frame).collect::<Vec<_>>());
    drop(s);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn delivered_segments_are_deleted_and_the_spool_ends_up_empty() {
    let dir = scratch("delete");
    let mut o = options(&dir);
    o.max_size = 64 << 10; // 4 KiB segments
    let mut s = Spool::open(&o).unwrap().unwrap();
    for i in 0..2000 {
        s.append(0, b"/t", &frame(i));
        if i % 100 == 0 {
            s.flush();
        }
    }
    s.flush();
    assert!(segments(&dir) > 10, "{} segments", segments(&dir));
    assert_eq!(read_all(&mut s, 0).len(), 2000);
    let end = s.cursor(0);
    s.delivered(0, end);
    s.save();
    assert_eq!(segments(&dir), 1, "only the one being written");
    assert_eq!(s.stats().records, 0);
    assert!(s.stats().bytes < 4 << 10);
    drop(s);
    let mut s = Spool::open(&o).unwrap().unwrap();
    assert!(read_all(&mut s, 0).is_empty());
    drop(s);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The only sealed segment of a reopened spool.
fn last_segment(dir: &std::path::Path) -> PathBuf {
    let mut segs: Vec<PathBuf> = std::fs::read_dir(dir.join("all"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    segs.sort();
    segs.pop().unwrap()
}

#[test]
fn a_torn_or_corrupted_last_record_is_skipped_and_reported_the_good_ones_delivered() {
    for damage in ["truncate", "corrupt", "garbage"] {
        let dir = scratch(damage);
        let mut s = Spool::open(&options(&dir)).unwrap().unwrap();
        for i in 0..5 {
            s.append(0, b"/t", &frame(i));
        }
        drop(s); // flushed on drop
        let seg = last_segment(&dir);
        let len = std::fs::metadata(&seg).unwrap().len();
        match damage {
            "truncate" => {
                let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
                f.set_len(len - 3).unwrap();
            }
            "corrupt" => {
                let mut bytes = std::fs::read(&seg).unwrap();
                let n = bytes.len();
                bytes[n - 2] ^= 0xff;
                std::fs::write(&seg, bytes).unwrap();
            }
            _ => {
                let mut bytes = std::fs::read(&seg).unwrap();
                bytes.extend_from_slice(&[0x55; 11]);
                std::fs::write(&seg, bytes).unwrap();
            }
        }
        let mut s = Spool::open(&options(&dir)).unwrap().unwrap();
        s.append(0, b"/t", &frame(99));
        s.flush();
        let got = read_all(&mut s, 0);
        let good = if damage == "garbage" { 5 } else { 4 };
        let mut want: Vec<_> = (0..good).map(frame).collect();
        want.push(frame(99));
        assert_eq!(got, want, "{damage}");
        let notes = s.take_notes();
        assert_eq!(notes.len(), 1, "{damage}: {notes:?}");
        let Note::Damaged(d) = &notes[0] else {
            panic!("{damage}: {notes:?}")
        };
        assert_eq!(d.path, seg);
        assert_eq!(d.records, 0, "a torn tail loses no whole message");
        assert!(d.bytes > 0);
        assert_eq!(s.stats().damaged, 1);
        // Delivered past the damage: the damaged segment goes.
        let end = s.cursor(0);
        s.delivered(0, end);
        assert!(!seg.exists(), "{damage}");
        drop(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_full_spool_drops_its_oldest_under_drop_oldest_and_counts_them() {
    let dir = scratch("drop-oldest");
    let mut o = options(&dir);
    o.max_size = 64 << 10;
    o.policy = SpoolPolicy::DropOldest;
    let mut s = Spool::open(&o).unwrap().unwrap();
    let n = 5000;
    for i in 0..n {
        s.append(0, b"/t", &frame(i));
        s.flush();
    }
    let st = s.stats();
    assert!(st.bytes <= o.max_size, "{st:?}");
    assert!(st.dropped > 0);
    assert_eq!(st.dropped + st.records, n, "{st:?}");
    let got = read_all(&mut s, 0);
    assert_eq!(got.len() as u64, st.records);
    // The newest are kept, in order.
    let first = n - got.len() as u64;
    assert_eq!(got, (first..n).map(frame).collect::<Vec<_>>());
    let notes = s.take_notes();
    assert!(
        notes
            .iter()
            .all(|n| matches!(n, Note::Dropped { why, .. } if why.contains("drop_oldest")))
    );
    let reported: u64 = notes
        .iter()
        .map(|n| match n {
            Note::Dropped { records, .. } => *records,
            _ => 0,
        })
        .sum();
    assert_eq!(reported, st.dropped);
    drop(s);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_full_spool_under_block_says_so_and_has_room_again_once_delivered() {
    let dir = scratch("block");
    let mut o = options(&dir);
    o.max_size = 64 << 10;
    let mut s = Spool::open(&o).unwrap().unwrap();
    let mut i = 0;
    while !s.is_full() {
        s.append(0, b"/t", &frame(i));
        s.flush();
        i += 1;
    }
    assert!(i > 1000, "{i}");
    assert_eq!(s.stats().dropped, 0);
    for _ in 0..100 {
        let Next::Record { len, .. } = s.next(0) else {
            panic!()
        };
        s.advance(0, len);
    }
    // A hundred records are less than a segment: still full.
    let pos = s.cursor(0);
    s.delivered(0, pos);
    assert!(s.is_full());
    read_all(&mut s, 0);
    let end = s.cursor(0);
    s.delivered(0, end);
    assert!(!s.is_full());
    drop(s);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_endpoint_at_a_time_and_a_record_too_large_is_dropped() {
    let dir = scratch("lock");
    let mut o = options(&dir);
    o.max_size = 64 << 10;
    let mut s = Spool::open(&o).unwrap().unwrap();
    let e = Spool::open(&o).err().unwrap();
    assert!(e.message.contains("in use"), "{e}");
    s.append(0, b"/t", &vec![0; 40 << 10]);
    assert_eq!(s.stats().dropped, 1);
    assert!(matches!(
        &s.take_notes()[..],
        [Note::Dropped { records: 1, .. }]
    ));
    drop(s);
    assert!(Spool::open(&o).unwrap().is_some(), "free again");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn lanes_take_the_longest_prefix_and_a_lane_no_longer_configured_is_still_delivered() {
    let dir = scratch("lanes");
    let mut o = options(&dir);
    o.topics = vec![
        b"zeek/logs/".to_vec(),
        b"zeek/logs/conn".to_vec(),
        b"x".to_vec(),
    ];
    let mut s = Spool::open(&o).unwrap().unwrap();
    let conn = s.lane_for(b"zeek/logs/conn").unwrap();
    let logs = s.lane_for(b"zeek/logs/dns").unwrap();
    assert_ne!(conn, logs);
    assert_eq!(s.lane_for(b"zeek/other"), None, "not spooled");
    s.append(conn, b"zeek/logs/conn", &frame(1));
    s.append(logs, b"zeek/logs/dns", &frame(2));
    drop(s);
    o.topics = vec![b"zeek/logs/".to_vec()];
    let mut s = Spool::open(&o).unwrap().unwrap();
    assert_eq!(
        s.lanes(),
        2,
        "the old lane with a record is kept, the empty one went"
    );
    assert!(!dir.join("topic-78").exists());
    assert_eq!(
        s.lane_for(b"zeek/logs/conn"),
        Some(0),
        "an old lane takes nothing new"
    );
    let all: Vec<_> = (0..s.lanes()).flat_map(|l| read_all(&mut s, l)).collect();
    assert_eq!(all.len(), 2);
    assert!(all.contains(&frame(1)) && all.contains(&frame(2)));
    drop(s);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sizes_read_with_their_units() {
    assert_eq!(parse_size("4096"), Some(4096));
    assert_eq!(parse_size("64k"), Some(64 << 10));
    assert_eq!(parse_size("64KiB"), Some(64 << 10));
    assert_eq!(parse_size("2 G"), Some(2 << 30));
    assert_eq!(parse_size("512M"), Some(512 << 20));
    assert_eq!(parse_size("lots"), None);
    assert_eq!(parse_size("1T"), None);
    assert_eq!(parse_size(""), None);
}
