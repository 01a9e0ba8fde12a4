//! Every cache in one process, interleaved in short rotating bursts; prints
//! markdown tables of per-thread CPU ns/op, per-round paired ratios to the
//! floor, quick_cache, `Mutex<lru>` and the faster of those two, and issue 9's
//! speed targets. `--help` lists the flags.

#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::Duration;

use tenure_benches::contenders::Kind;
use tenure_benches::report::{Measured, svg_chart, targets_table};
use tenure_benches::rotation::PrepareBurst;
use tenure_benches::workload::Workload;

const HELP: &str = "\
compare: interleaved benchmark of tenure against its peers

  --quick            3 rounds of 40 ms bursts (a smoke run)
  --rounds N         rounds per workload (default 12)
  --burst-ms N       CPU time per burst and thread, in ms (default 100)
  --workloads LIST   comma-separated: w1,w1x2,w2a,w2b,w3 (default: all)
  --caches LIST      comma-separated: floor,floor-sip,quick_cache,lru,moka,mini-moka,
                     sliding,lru-bound,hybrid,tinylfu,s3fifo,sieve (default: all; a ratio column needs
                     its reference: floor, quick_cache, lru, or both of the last two)
  --svg PATH         also write a bar chart of the medians to PATH
";

#[derive(Debug, thiserror::Error)]
enum ArgsError {
    #[error("{0} needs a value")]
    Missing(String),
    #[error("{flag}: expected {expected}, got {got:?}")]
    Invalid {
        flag: &'static str,
        expected: &'static str,
        got: String,
    },
    #[error("unknown argument {0:?} (try --help)")]
    Unknown(String),
}

#[derive(Debug)]
struct Args {
    rounds: usize,
    burst: Duration,
    workloads: Vec<Workload>,
    caches: Vec<Kind>,
    svg: Option<std::path::PathBuf>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, ArgsError> {
    let mut parsed = Args {
        rounds: 12,
        burst: Duration::from_millis(100),
        workloads: Workload::ALL.to_vec(),
        caches: Kind::ALL.to_vec(),
        svg: None,
    };
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .ok_or_else(|| ArgsError::Missing(flag.to_string()))
        };
        match arg.as_str() {
            "--help" | "-h" => return Ok(None),
            "--quick" => {
                parsed.rounds = 3;
                parsed.burst = Duration::from_millis(40);
            }
            "--rounds" => {
                let got = value("--rounds")?;
                parsed.rounds = got
                    .parse()
                    .ok()
                    .filter(|&n| n >= 1)
                    .ok_or(ArgsError::Invalid {
                        flag: "--rounds",
                        expected: "a whole number >= 1",
                        got,
                    })?;
            }
            "--burst-ms" => {
                let got = value("--burst-ms")?;
                let ms: u64 = got
                    .parse()
                    .ok()
                    .filter(|&n| n >= 1)
                    .ok_or(ArgsError::Invalid {
                        flag: "--burst-ms",
                        expected: "a whole number of milliseconds >= 1",
                        got,
                    })?;
                parsed.burst = Duration::from_millis(ms);
            }
            "--workloads" => {
                let got = value("--workloads")?;
                parsed.workloads = got
                    .split(',')
                    .map(|w| Workload::from_label(w.trim()))
                    .collect::<Option<Vec<_>>>()
                    .filter(|w| !w.is_empty())
                    .ok_or(ArgsError::Invalid {
                        flag: "--workloads",
                        expected: "a list of w1, w1xN, w2a, w2b, w3",
                        got,
                    })?;
            }
            "--caches" => {
                let got = value("--caches")?;
                parsed.caches = got
                    .split(',')
                    .map(|k| Kind::from_label(k.trim()))
                    .collect::<Option<Vec<_>>>()
                    .filter(|k| !k.is_empty())
                    .ok_or(ArgsError::Invalid {
                        flag: "--caches",
                        expected: "a list of cache labels (see --help)",
                        got,
                    })?;
            }
            "--svg" => parsed.svg = Some(value("--svg")?.into()),
            _ => return Err(ArgsError::Unknown(arg)),
        }
    }
    Ok(Some(parsed))
}

fn measure(workload: Workload, args: &Args) -> Measured {
    let stream = workload.stream();
    let kinds = args.caches.clone();
    let bursts: Vec<_> = kinds
        .iter()
        .map(|kind| {
            kind.build(
                &workload.setup(),
                PrepareBurst {
                    workload,
                    stream: stream.clone(),
                },
            )
            .expect("the workload constants are valid")
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(args.rounds); kinds.len()];
    for round in 0..args.rounds {
        for i in 0..kinds.len() {
            let index = (i + round) % kinds.len();
            samples[index].push(bursts[index].burst(args.burst));
        }
        eprint!(".");
    }
    eprintln!(" {}", workload.label());
    Measured {
        workload,
        kinds,
        samples,
    }
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("compare: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "Per-thread CPU ns/op; {} rounds of {} ms bursts per cache (and per thread), order rotated each round; \
         ratios are per-round paired ratios: in each round, the cache's ns/op ÷ the reference's in that round \
         (floor = foldhash floor; fastest peer = the faster of quick_cache and `Mutex<lru>` in that round).\n",
        args.rounds,
        args.burst.as_millis()
    );
    let mut all = Vec::new();
    for &workload in &args.workloads {
        let measured = measure(workload, &args);
        println!("{}", measured.table());
        all.push(measured);
    }
    println!(
        "#### Targets (issue 9; W4's memory target is checked by `--bin memory`)\n\n{}",
        targets_table(&all)
    );
    if let Some(path) = &args.svg {
        if let Err(e) = std::fs::write(path, svg_chart(&all)) {
            eprintln!("compare: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
