//! SharedMemory and arena blocks across real processes (fork), with leak checks.

use multiproc_shm::{Block, SharedMemory, handle};
use multiproc_testkit::{DEADLINE, dev_shm, fork, open_fds};

#[test]
fn named_segment_opened_by_name_from_a_child() {
    let shm = SharedMemory::create(None, 5 * 8).unwrap();
    let name = shm.name().unwrap().to_owned();
    assert!(dev_shm().contains(&name));
    let arr = shm.as_slice_of::<i64>();
    arr.copy_from_slice(&[1, 2, 3, 4, 5]);
    let child_name = name.clone();
    let child = fork(move || {
        let existing = SharedMemory::open(&child_name).unwrap();
        let arr = existing.as_slice_of::<i64>();
        assert_eq!(arr.load(4), 5);
        arr.store(0, 99);
        existing.close(); // an attacher never unlinks
    });
    assert!(child.join(DEADLINE));
    assert_eq!(arr.copy_to_vec(), [99, 2, 3, 4, 5]);
    // The child's close did not unlink: the name still opens.
    assert!(SharedMemory::open(&name).is_ok());
    drop(shm);
    assert!(
        !dev_shm().contains(&name),
        "creator's drop must unlink {name}"
    );
}

#[test]
fn anonymous_segment_received_through_handle_transfer() {
    let shm = SharedMemory::anonymous(4096).unwrap();
    // What a Process argument does: encode with handles, the child decodes its copy.
    let (bytes, fds) = handle::encode_with_handles(&shm).unwrap();
    let child = fork(move || {
        let mine: SharedMemory = handle::decode_with_handles(&bytes, fds).unwrap();
        mine.view_at::<f64>(8, 1).unwrap().store(0, 42.0);
    });
    assert!(child.join(DEADLINE));
    assert_eq!(shm.view_at::<f64>(8, 1).unwrap().load(0), 42.0);
}

#[test]
fn no_fd_or_dev_shm_leaks() {
    let before_fds = open_fds();
    let mut names = Vec::new();
    for _ in 0..50 {
        let a = SharedMemory::anonymous(4096).unwrap();
        let n = SharedMemory::create(None, 4096).unwrap();
        names.push(n.name().unwrap().to_owned());
        let (bytes, fds) = handle::encode_with_handles(&(a, n)).unwrap();
        let back: (SharedMemory, SharedMemory) = handle::decode_with_handles(&bytes, fds).unwrap();
        drop(back);
    }
    assert_eq!(open_fds(), before_fds);
    let now = dev_shm();
    for n in &names {
        assert!(!now.contains(n), "{n} leaked");
    }
}

#[test]
fn ten_thousand_blocks_need_a_handful_of_fds() {
    let before = open_fds();
    let blocks: Vec<Block> = (0..10_000).map(|_| Block::alloc(8, 8).unwrap()).collect();
    let used = open_fds() - before;
    assert!(used <= 8, "10,000 blocks used {used} fds");
    assert!(Block::mapped_segments() <= 8);
    for (i, b) in blocks.iter().enumerate() {
        b.view::<u64>().unwrap().store(0, i as u64);
    }
    assert!(
        blocks
            .iter()
            .enumerate()
            .all(|(i, b)| b.view::<u64>().unwrap().load(0) == i as u64)
    );
    drop(blocks);
    // Only the current segment (kept for further allocations) may remain.
    assert!(open_fds() <= before + 1);
}

#[test]
fn parent_and_forked_child_allocate_disjoint_blocks() {
    let first = Block::alloc(8, 8).unwrap(); // makes sure a current segment exists
    let child = fork(|| {
        for _ in 0..100 {
            Block::alloc(64, 8)
                .unwrap()
                .view::<u8>()
                .unwrap()
                .fill(0xaa);
        }
    });
    assert!(child.join(DEADLINE));
    for _ in 0..100 {
        let b = Block::alloc(64, 8).unwrap();
        assert!(
            b.view::<u8>().unwrap().iter().all(|x| x == 0),
            "block reused child bytes"
        );
    }
    drop(first);
}

#[test]
fn blocks_travel_to_a_child() {
    let b = Block::alloc(16, 8).unwrap();
    let (bytes, fds) = handle::encode_with_handles(&b).unwrap();
    let child = fork(move || {
        let mine: Block = handle::decode_with_handles(&bytes, fds).unwrap();
        mine.view::<u32>().unwrap().store(3, 7);
    });
    assert!(child.join(DEADLINE));
    assert_eq!(b.view::<u32>().unwrap().load(3), 7);
}

#[test]
fn a_forked_child_dropping_the_inherited_handle_does_not_unlink() {
    let shm = SharedMemory::create(None, 64).unwrap();
    let name = shm.name().unwrap().to_owned();
    let child = fork(|| {
        // What a forked child that runs destructors does with the parent's segment.
        #[allow(unsafe_code)]
        // SAFETY: the child has its own copy of the parent's memory; this bitwise copy is the
        // only `SharedMemory` the child ever drops (the original is never dropped in the child).
        let inherited: SharedMemory = unsafe { std::ptr::read(&shm) };
        drop(inherited);
    });
    assert!(child.join(DEADLINE));
    assert!(
        dev_shm().contains(&name),
        "a child must not unlink its parent's segment"
    );
    drop(shm);
    assert!(!dev_shm().contains(&name));
}
