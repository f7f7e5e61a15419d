//! Fault injection: producer and consumer processes are SIGKILLed at random points (at least
//! 200 kills) while the others keep going. Afterwards every item whose `put` returned was
//! delivered exactly once, no torn item was ever seen, nothing got stuck, and the queue still
//! works.
//!
//! Delivery accounting is exact even for consumers killed mid-`get`: a consumer notes the id in
//! its `pending` word inside the zero-copy callback (before the ring releases the item) and
//! clears it after counting the delivery. When a consumer is killed with a pending id, that item
//! was either released (then nobody else will get it, and it counts as delivered to the dead
//! consumer) or not (then another consumer gets it again): counting the pending id only when no
//! live consumer counted it gives each item's true delivery count.
#![cfg(not(multiproc_loom))]
#![allow(clippy::cast_possible_truncation)]

mod common;

use multiproc_queue::{GetError, PutError, Queue};
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

const PRODUCERS: usize = 2;
const CONSUMERS: usize = 2;
const MAX_PRODUCER_IDS: usize = 1024;
const SEQS: usize = 1024;
const KILLS: usize = 220;

// Word indices in the accounting segment.
const STOP: usize = 0;
const DRAIN: usize = 1;
const TORN: usize = 2;
const PENDING: usize = 16; // CONSUMERS words
const COMMITTED: usize = 64;
const DELIVERED: usize = COMMITTED + MAX_PRODUCER_IDS * SEQS;
const WORDS: usize = DELIVERED + MAX_PRODUCER_IDS * SEQS;

type Item = (u32, Vec<u8>);

fn payload(id: u32) -> Vec<u8> {
    let len = (id as usize * 7919) % 1500 + 1;
    (0..len).map(|i| (id as usize + i * 31) as u8).collect()
}

fn producer(q: &Queue<Item>, w: &[std::sync::atomic::AtomicU32], pid_idx: usize) -> i32 {
    for seq in 0..SEQS {
        if w[STOP].load(SeqCst) != 0 {
            break;
        }
        let id = (pid_idx * SEQS + seq + 1) as u32;
        let mut item = (id, payload(id));
        loop {
            match q.put_timeout(item, Duration::from_millis(50)) {
                Ok(()) => break,
                Err(PutError::Full(v)) => {
                    if w[STOP].load(SeqCst) != 0 {
                        return 0;
                    }
                    item = v;
                }
                Err(e) => panic!("put: {e}"),
            }
        }
        w[COMMITTED + id as usize - 1].store(1, SeqCst);
    }
    0
}

fn consumer(q: &Queue<Item>, w: &[std::sync::atomic::AtomicU32], slot: usize) -> i32 {
    loop {
        let r = q.get_with(Some(Instant::now() + Duration::from_millis(50)), |bytes| {
            match postcard::from_bytes::<Item>(bytes) {
                Ok((id, p)) if id != 0 && p == payload(id) => {
                    w[PENDING + slot].store(id, SeqCst);
                    Some(id)
                }
                _ => None,
            }
        });
        match r {
            Ok(Some(id)) => {
                w[DELIVERED + id as usize - 1].fetch_add(1, SeqCst);
                w[PENDING + slot].store(0, SeqCst);
            }
            Ok(None) => {
                w[TORN].fetch_add(1, SeqCst);
            }
            Err(GetError::Empty) => {
                if w[DRAIN].load(SeqCst) != 0 {
                    return 0;
                }
            }
            Err(e) => panic!("get: {e}"),
        }
    }
}

/// A xorshift generator (no dependency; the seed is printed for reproduction).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn sigkill_producers_and_consumers_at_random_points() {
    common::watchdog(240);
    let fds = common::open_fds();
    let segment = common::Words::new(WORDS);
    let words = &segment;
    let w = words.get();
    let q: Queue<Item> = Queue::with_capacity(0, 8192).unwrap();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("fault injection seed {seed}");
    let mut rng = Rng(seed);

    let spawn_producer = |idx: usize| {
        let q = q.clone();
        common::fork(120, move || producer(&q, words.get(), idx))
    };
    let spawn_consumer = |slot: usize| {
        let q = q.clone();
        common::fork(120, move || consumer(&q, words.get(), slot))
    };

    let mut next_idx = 0;
    let mut producers: Vec<libc::pid_t> = (0..PRODUCERS)
        .map(|_| {
            next_idx += 1;
            spawn_producer(next_idx - 1)
        })
        .collect();
    let mut consumers: Vec<libc::pid_t> = (0..CONSUMERS).map(spawn_consumer).collect();
    let mut dead_pending = Vec::new();
    let (mut kills, mut producer_kills, mut consumer_kills) = (0, 0, 0);

    while kills < KILLS && next_idx < MAX_PRODUCER_IDS {
        std::thread::sleep(Duration::from_micros(rng.below(6000)));
        // Producers that finished their range are replaced too.
        for p in producers.iter_mut() {
            if let Some(code) = common::try_wait(*p) {
                assert_eq!(code, 0, "producer failed");
                next_idx += 1;
                *p = spawn_producer(next_idx - 1);
            }
        }
        let victim = rng.below((PRODUCERS + CONSUMERS) as u64) as usize;
        if victim < PRODUCERS {
            common::kill(producers[victim]);
            producer_kills += 1;
            next_idx += 1;
            producers[victim] = spawn_producer(next_idx - 1);
        } else {
            let slot = victim - PRODUCERS;
            common::kill(consumers[slot]);
            consumer_kills += 1;
            let pending = w[PENDING + slot].swap(0, SeqCst);
            if pending != 0 {
                dead_pending.push(pending);
            }
            consumers[slot] = spawn_consumer(slot);
        }
        kills += 1;
    }

    // Let the producers stop, then the consumers drain the rest.
    w[STOP].store(1, SeqCst);
    for p in producers {
        assert_eq!(
            common::wait(p, Duration::from_secs(60)),
            0,
            "producer stuck or failed"
        );
    }
    w[DRAIN].store(1, SeqCst);
    for c in consumers {
        assert_eq!(
            common::wait(c, Duration::from_secs(60)),
            0,
            "consumer stuck or failed"
        );
    }
    assert!(q.empty(), "items left after draining: {}", q.qsize());

    eprintln!(
        "{kills} kills ({producer_kills} producers, {consumer_kills} consumers), \
         {next_idx} producer processes, {} consumer kills inside get",
        dead_pending.len()
    );
    assert!(kills >= 200, "only {kills} kills");
    assert_eq!(w[TORN].load(SeqCst), 0, "torn items seen");

    let (mut committed, mut delivered) = (0u64, 0u64);
    for i in 0..MAX_PRODUCER_IDS * SEQS {
        let id = (i + 1) as u32;
        let live = w[DELIVERED + i].load(SeqCst);
        assert!(live <= 1, "item {id} delivered {live} times");
        let total = live + u32::from(live == 0 && dead_pending.contains(&id));
        if w[COMMITTED + i].load(SeqCst) == 1 {
            committed += 1;
            assert_eq!(total, 1, "committed item {id} lost");
        }
        delivered += u64::from(total);
    }
    eprintln!(
        "{committed} items committed, {delivered} delivered, {} locks taken over from dead holders",
        q.ring().lock_recoveries()
    );
    assert!(committed > 1000, "too little traffic to mean anything");

    // The queue still works.
    q.put((7, payload(7))).unwrap();
    assert_eq!(q.get_timeout(Duration::from_secs(5)).unwrap().0, 7);
    drop(q);
    drop(segment);
    assert_eq!(common::open_fds(), fds, "fd leak");
}
