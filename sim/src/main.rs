//! The `tenure-sim` command line. See the crate README for what it does.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tenure::PolicyKind;
use tenure_sim::{
    ConfigOverrides, Engine, Progress, ProgressUnit, ScenarioOptions, SimError, TraceFormat,
    TraceOptions, replay_trace, resolve_config, run_scenario,
};

/// The name of the chart the scenario writes into `--out`.
const CHART_FILE: &str = "live-entries.svg";

/// See what a cache policy does to your traffic before you pick its numbers.
///
/// With no command, runs the built-in scenario: 48 simulated hours of a
/// multi-tenant service's API-key lookups, replayed through an unbounded map
/// (the memory leak) and through tenure's sliding-TTL, LRU and hybrid policies.
#[derive(Debug, Parser)]
#[command(name = "tenure-sim", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    scenario: ScenarioArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the built-in multi-tenant scenario (what runs when no command is given).
    Scenario(ScenarioArgs),
    /// Replay a trace file (ARC .lis or CSV `timestamp_ms,key`, optionally .zst)
    /// through one cache policy.
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
struct ScenarioArgs {
    /// Directory to write the chart (live-entries.svg) into.
    #[arg(long, value_name = "DIR", default_value = "sim-out")]
    out: PathBuf,
    /// Seed of the traffic generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Scale of the traffic, tenant counts and capacities (1 = full scenario).
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    scale: f64,
    /// Also write the generated requests as a CSV trace (`timestamp_ms,key`),
    /// to replay them under other settings with `tenure-sim replay`.
    #[arg(long, value_name = "FILE")]
    export_trace: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// The trace file.
    #[arg(long, value_name = "FILE")]
    trace: PathBuf,
    /// Trace format; by default from the file name (.lis, .csv, either + .zst).
    #[arg(long)]
    format: Option<FormatArg>,
    /// Eviction policy (overrides the config file's).
    #[arg(long)]
    policy: Option<PolicyArg>,
    /// Most entries held, for lru and hybrid (the config's `max_capacity`).
    #[arg(long, visible_alias = "max-capacity", value_name = "N")]
    capacity: Option<usize>,
    /// Sliding time-to-live, for sliding-ttl and hybrid (the config's
    /// `time_to_idle`) [default without --config: 1h].
    #[arg(long, visible_alias = "time-to-idle", value_name = "DURATION")]
    ttl: Option<humantime::Duration>,
    /// Absolute lifetime of an entry, for sliding-ttl and hybrid (the config's
    /// `time_to_live`).
    #[arg(long, visible_alias = "time-to-live", value_name = "DURATION")]
    max_lifetime: Option<humantime::Duration>,
    /// Simulate a background sweeper at this interval of trace time.
    #[arg(long, value_name = "DURATION")]
    sweep_interval: Option<humantime::Duration>,
    /// Simulated time between two lookups of a .lis trace (it has no timestamps).
    #[arg(long, value_name = "DURATION", default_value = "1ms")]
    lis_step: humantime::Duration,
    /// What replays the trace: the policy state machine under the cache's rules
    /// (fast), or the real concurrent cache (same results, slower).
    #[arg(long, default_value = "policy")]
    engine: EngineArg,
    /// A tenure config file (TOML, or JSON if named *.json); flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Lis,
    Csv,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EngineArg {
    Policy,
    Cache,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PolicyArg {
    Lru,
    SlidingTtl,
    Hybrid,
    S3fifo,
    Sieve,
}

fn parse_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(scale) if scale > 0.0 && scale <= 10.0 => Ok(scale),
        _ => Err(format!("expected a number in (0, 10], got {text:?}")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => scenario(cli.scenario),
        Some(Command::Scenario(args)) => scenario(args),
        Some(Command::Replay(args)) => replay(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Nothing more can be done if stderr is closed too.
            let _ = writeln!(std::io::stderr(), "tenure-sim: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Writes to standard output. A reader that has gone away (`| head`) is not
/// an error: there is nobody left to tell.
fn emit(text: &str) -> Result<(), SimError> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(SimError::Output {
            path: PathBuf::from("standard output"),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn scenario(args: ScenarioArgs) -> Result<(), SimError> {
    let options = ScenarioOptions {
        seed: args.seed,
        scale: args.scale,
    };
    let started = std::time::Instant::now();
    let mut progress = None;
    let report = run_scenario(&options, |done, total| {
        progress
            .get_or_insert_with(|| Progress::new(total, ProgressUnit::Requests, args.quiet))
            .set(done);
    })?;
    if let Some(progress) = &mut progress {
        progress.finish();
    }
    emit(&report.table())?;
    let output_error = |path: &PathBuf| {
        let path = path.clone();
        move |source| SimError::Output { path, source }
    };
    std::fs::create_dir_all(&args.out).map_err(output_error(&args.out))?;
    let chart = args.out.join(CHART_FILE);
    std::fs::write(&chart, report.chart_svg()).map_err(output_error(&chart))?;
    emit(&format!(
        "\nChart of live entries over time: {}\n",
        chart.display()
    ))?;
    if let Some(path) = &args.export_trace {
        let file = std::fs::File::create(path).map_err(output_error(path))?;
        report.traffic.write_csv(file).map_err(output_error(path))?;
        emit(&format!(
            "Requests written as a CSV trace: {}\n",
            path.display()
        ))?;
    }
    emit(&format!(
        "(took {:.1} s)\n",
        started.elapsed().as_secs_f64()
    ))
}

fn replay(args: ReplayArgs) -> Result<(), SimError> {
    let overrides = ConfigOverrides {
        policy: args.policy.map(|p| match p {
            PolicyArg::Lru => PolicyKind::Lru,
            PolicyArg::SlidingTtl => PolicyKind::SlidingTtl,
            PolicyArg::Hybrid => PolicyKind::Hybrid,
            PolicyArg::S3fifo => PolicyKind::S3Fifo,
            PolicyArg::Sieve => PolicyKind::Sieve,
        }),
        capacity: args.capacity,
        ttl: args.ttl.map(Into::into),
        max_lifetime: args.max_lifetime.map(Into::into),
        sweep_interval: args.sweep_interval.map(Into::into),
    };
    let config = resolve_config(args.config.as_deref(), &overrides)?;
    let trace_options = TraceOptions {
        format: args.format.map(|f| match f {
            FormatArg::Lis => TraceFormat::Lis,
            FormatArg::Csv => TraceFormat::Csv,
        }),
        lis_step: args.lis_step.into(),
    };
    let engine = match args.engine {
        EngineArg::Policy => Engine::Policy,
        EngineArg::Cache => Engine::Cache,
    };
    let report = replay_trace(&args.trace, trace_options, &config, engine, args.quiet)?;
    if args.json {
        emit(&format!("{}\n", report.to_json()))
    } else {
        emit(&report.to_text())
    }
}
