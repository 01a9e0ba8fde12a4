//! What one extra indirection on the hit path costs: the floor
//! (`RwLock<HashMap<u64, Arc<_>>>`, foldhash) against the same map holding a
//! slab position instead of the entry (hash index → slab → value, the shape of
//! tenure's shards), and tenure's `LruBound`, on W1, interleaved as in `compare`.
//!
//! `cargo run --release -p tenure-benches --example indirection`
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::RwLock;
use tenure_benches::contenders::{Contender, FoldHash, Kind, Value, Visit};
use tenure_benches::rotation::{Burst, PrepareBurst, Summary};
use tenure_benches::workload::Workload;

const ROUNDS: usize = 12;

/// The floor, with entries in a slab and the map holding their positions.
#[derive(Default)]
struct Slabbed {
    state: RwLock<(HashMap<u64, u32, FoldHash>, Vec<Value>)>,
}

impl Contender for Slabbed {
    fn get(&self, key: u64) -> Option<Value> {
        let state = self.state.read();
        let pos = *state.0.get(&key)?;
        state.1.get(pos as usize).cloned()
    }

    fn get_or_create(&self, key: u64, value: &Value) -> bool {
        if self.get(key).is_some() {
            return true;
        }
        self.insert(key, Value::clone(value));
        false
    }

    // Only W1 runs here: entries are never removed, so positions stay valid.
    fn insert(&self, key: u64, value: Value) {
        let mut state = self.state.write();
        let pos = u32::try_from(state.1.len()).expect("fewer than 2^32 entries");
        state.1.push(value);
        state.0.insert(key, pos);
    }

    fn settled_len(&self) -> usize {
        self.state.read().0.len()
    }
}

fn main() {
    let workload = Workload::W1 { threads: 1 };
    let stream = workload.stream();
    let prepare = || PrepareBurst {
        workload,
        stream: stream.clone(),
    };
    let setup = workload.setup();
    let contenders: [(&str, Box<dyn Burst>); 3] = [
        (
            "floor",
            Kind::FloorFoldHash
                .build(&setup, prepare())
                .expect("valid setup"),
        ),
        (
            "floor + slab indirection",
            prepare().visit(Slabbed::default()),
        ),
        (
            "tenure LruBound",
            Kind::TenureLruBound
                .build(&setup, prepare())
                .expect("valid setup"),
        ),
    ];
    let mut ns = vec![Vec::with_capacity(ROUNDS); contenders.len()];
    for round in 0..ROUNDS {
        for i in 0..contenders.len() {
            let index = (i + round) % contenders.len();
            let sample = contenders[index].1.burst(Duration::from_millis(100));
            ns[index].push(sample.ns_per_op());
        }
    }
    println!("| W1, 1 thread | ns/op median | × floor median (IQR) |\n|---|---:|---:|");
    for ((name, _), own) in contenders.iter().zip(&ns) {
        let ratios: Vec<f64> = own.iter().zip(&ns[0]).map(|(a, b)| a / b).collect();
        let (Some(own), Some(ratio)) = (Summary::of(own), Summary::of(&ratios)) else {
            continue;
        };
        println!(
            "| {name} | {:.1} | {:.2}× ({:.2}–{:.2}) |",
            own.median, ratio.median, ratio.q1, ratio.q3
        );
    }
}
