//! The `tenure-sim` command line. See the crate README for what it does.

use std::io::Write as _;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tenure::PolicyKind;
use tenure_sim::{
    ConfigOverrides, Engine, FleetOptions, FleetTraffic, MAX_REPLICAS, Progress, ProgressUnit,
    ReplayReport, Resize, Routing, ScenarioOptions, SimError, SweepOptions, SweepPolicy,
    TraceFormat, TraceOptions, chart_stem, generate_traffic, read_trace, replay_opt, replay_trace,
    resolve_config, run_fleet, run_scenario, sweep_trace,
};

/// The name of the chart the scenario writes into `--out`.
const CHART_FILE: &str = "live-entries.svg";

/// See what a cache policy does to your traffic before you pick its numbers.
///
/// With no command, runs the built-in scenario: 48 simulated hours of a
/// multi-tenant service's API-key lookups, replayed through an unbounded map
/// (the memory leak) and through tenure's policies: sliding TTL, and LRU,
/// TinyLFU, S3-FIFO, SIEVE and hybrid at the same bound.
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
    /// Replay a trace through every bounded policy and OPT at several
    /// capacities: a table of hit ratios (and each one's share of OPT's) and a
    /// chart of hit ratio against capacity.
    Sweep(SweepArgs),
    /// Replay the built-in scenario (or a trace) through a fleet of replicas
    /// behind a load balancer, each with its own cache, under each routing
    /// scheme: hit ratio, creations and live entries per replica, and what a
    /// resize costs.
    Fleet(FleetArgs),
}

#[derive(Debug, Args)]
struct FleetArgs {
    /// Replicas at the start.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = parse_replicas)]
    replicas: usize,
    /// Routing schemes to compare, comma-separated [default: all four].
    #[arg(long, value_name = "SCHEME,...", value_delimiter = ',')]
    routing: Vec<RoutingArg>,
    /// Change the number of replicas to N at time AT from the start of the
    /// run (24h:9 adds one replica to eight; 30h:7 loses one). Repeatable.
    #[arg(long, value_name = "AT:N", value_parser = Resize::parse)]
    resize: Vec<Resize>,
    /// A trace file to replay instead of the built-in scenario.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Trace format; by default from the file name (.lis, .csv, either + .zst).
    #[arg(long, requires = "trace")]
    format: Option<FormatArg>,
    /// Simulated time between two lookups of a .lis trace [default: 1ms].
    #[arg(long, value_name = "DURATION", requires = "trace")]
    lis_step: Option<humantime::Duration>,
    /// Seed of the scenario's traffic and of random routing.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Scale of the scenario's traffic, tenants and default capacity.
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale, conflicts_with = "trace")]
    scale: f64,
    /// Each replica's eviction policy [default: the original fix, hybrid with
    /// --time-to-idle 1h, --max-capacity 10000 (× --scale) and
    /// --sweep-interval 5m, unless --config is given].
    #[arg(long)]
    policy: Option<PolicyArg>,
    #[command(flatten)]
    bounds: BoundArgs,
    /// What replays each replica's cache [default: policy].
    #[arg(long)]
    engine: Option<EngineArg>,
    /// A tenure config file (TOML, or JSON if named *.json) for every
    /// replica's cache; flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory to write the charts (fleet-<routing>.svg) into.
    #[arg(long, value_name = "DIR", default_value = "sim-out")]
    out: PathBuf,
    /// Fleet runs at once [default: the number of CPUs].
    #[arg(long, value_name = "N")]
    threads: Option<NonZeroUsize>,
    /// Print one JSON object instead of the tables.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RoutingArg {
    Random,
    RoundRobin,
    RingHash,
    Maglev,
}

impl From<RoutingArg> for Routing {
    fn from(routing: RoutingArg) -> Self {
        match routing {
            RoutingArg::Random => Routing::Random,
            RoutingArg::RoundRobin => Routing::RoundRobin,
            RoutingArg::RingHash => Routing::RingHash,
            RoutingArg::Maglev => Routing::Maglev,
        }
    }
}

fn parse_replicas(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_REPLICAS).contains(&n) => Ok(n),
        _ => Err(format!(
            "a fleet has 1 to {MAX_REPLICAS} replicas, got {text:?}"
        )),
    }
}

#[derive(Debug, Args)]
struct SweepArgs {
    /// The trace file.
    #[arg(long, value_name = "FILE")]
    trace: PathBuf,
    /// Trace format; by default from the file name (.lis, .csv, either + .zst).
    #[arg(long)]
    format: Option<FormatArg>,
    /// Capacities to replay at, comma-separated: 1000,2000,5000.
    #[arg(long, value_name = "N,N,...", value_delimiter = ',', required = true)]
    capacities: Vec<usize>,
    /// Policies, comma-separated: any bounded policy (lru, hybrid, ...) and opt
    /// [default: every bounded policy, and opt]. OPT is always computed.
    #[arg(long, value_name = "NAME,NAME,...", value_delimiter = ',')]
    policies: Vec<String>,
    /// Sliding expiry of the policies that need one (hybrid) [default: 1h].
    #[arg(long, alias = "ttl", value_name = "DURATION")]
    time_to_idle: Option<humantime::Duration>,
    /// Simulated time between two lookups of a .lis trace (it has no timestamps).
    #[arg(long, value_name = "DURATION", default_value = "1ms")]
    lis_step: humantime::Duration,
    /// Directory to write the chart (sweep-<trace name>.svg) into.
    #[arg(long, value_name = "DIR", default_value = "sim-out")]
    out: PathBuf,
    /// Replays run at once [default: the number of CPUs].
    #[arg(long, value_name = "N")]
    threads: Option<NonZeroUsize>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
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

/// The cache's numbers, named as the library's builder and config name them
/// (the older `--capacity`, `--ttl` and `--max-lifetime` still work, unlisted).
#[derive(Debug, Args)]
struct BoundArgs {
    /// Most entries held, for every policy but sliding-ttl (the config's `max_capacity`).
    #[arg(long, alias = "capacity", value_name = "N")]
    max_capacity: Option<usize>,
    /// Sliding expiry: an entry not read for this long expires, for
    /// sliding-ttl and hybrid (the config's `time_to_idle`) [default without
    /// --config: 1h].
    #[arg(long, alias = "ttl", value_name = "DURATION")]
    time_to_idle: Option<humantime::Duration>,
    /// Absolute lifetime of an entry, however often it is read, for
    /// sliding-ttl and hybrid (the config's `time_to_live`).
    #[arg(long, alias = "max-lifetime", value_name = "DURATION")]
    time_to_live: Option<humantime::Duration>,
    /// Simulate a background sweeper at this interval of trace time.
    #[arg(long, value_name = "DURATION")]
    sweep_interval: Option<humantime::Duration>,
}

impl BoundArgs {
    /// The overrides these flags make, for `policy`.
    fn overrides(&self, policy: Option<PolicyKind>) -> ConfigOverrides {
        ConfigOverrides {
            policy,
            max_capacity: self.max_capacity,
            time_to_idle: self.time_to_idle.map(Into::into),
            time_to_live: self.time_to_live.map(Into::into),
            sweep_interval: self.sweep_interval.map(Into::into),
        }
    }
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// The trace file.
    #[arg(long, value_name = "FILE")]
    trace: PathBuf,
    /// Trace format; by default from the file name (.lis, .csv, either + .zst).
    #[arg(long)]
    format: Option<FormatArg>,
    /// Eviction policy (overrides the config file's). `opt` is Bélády's
    /// optimum, the ceiling no policy can beat: it needs only --max-capacity.
    #[arg(long)]
    policy: Option<PolicyArg>,
    #[command(flatten)]
    bounds: BoundArgs,
    /// Simulated time between two lookups of a .lis trace (it has no
    /// timestamps) [default: 1ms].
    #[arg(long, value_name = "DURATION")]
    lis_step: Option<humantime::Duration>,
    /// What replays the trace: the policy state machine under the cache's rules
    /// (fast), or the real concurrent cache (same results, slower) [default: policy].
    #[arg(long)]
    engine: Option<EngineArg>,
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

impl From<FormatArg> for TraceFormat {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Lis => TraceFormat::Lis,
            FormatArg::Csv => TraceFormat::Csv,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EngineArg {
    Policy,
    Cache,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PolicyArg {
    Lru,
    SlidingTtl,
    Hybrid,
    S3fifo,
    Sieve,
    Tinylfu,
    /// Bélády's optimum (needs the future, so only the simulator has it).
    Opt,
}

impl PolicyArg {
    /// The cache policy; `None` for OPT, which no cache can run.
    fn kind(self) -> Option<PolicyKind> {
        match self {
            PolicyArg::Lru => Some(PolicyKind::Lru),
            PolicyArg::SlidingTtl => Some(PolicyKind::SlidingTtl),
            PolicyArg::Hybrid => Some(PolicyKind::Hybrid),
            PolicyArg::S3fifo => Some(PolicyKind::S3Fifo),
            PolicyArg::Sieve => Some(PolicyKind::Sieve),
            PolicyArg::Tinylfu => Some(PolicyKind::TinyLfu),
            PolicyArg::Opt => None,
        }
    }
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
        Some(Command::Sweep(args)) => sweep(args),
        Some(Command::Fleet(args)) => fleet(args),
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
    let trace_options = TraceOptions {
        format: args.format.map(TraceFormat::from),
        lis_step: args
            .lis_step
            .map_or(TraceOptions::default().lis_step, Into::into),
    };
    let report = if args.policy == Some(PolicyArg::Opt) {
        replay_opt_args(&args, trace_options)?
    } else {
        replay_cache_args(&args, trace_options)?
    };
    if args.json {
        emit(&format!("{}\n", report.to_json()))
    } else {
        emit(&report.to_text())
    }
}

/// `replay --policy opt`: only the trace, its format and the capacity mean
/// anything to OPT, which has no clock and no cache to configure.
fn replay_opt_args(args: &ReplayArgs, options: TraceOptions) -> Result<ReplayReport, SimError> {
    let given = [
        ("--time-to-idle", args.bounds.time_to_idle.is_some()),
        ("--time-to-live", args.bounds.time_to_live.is_some()),
        ("--sweep-interval", args.bounds.sweep_interval.is_some()),
        ("--lis-step", args.lis_step.is_some()),
        ("--engine", args.engine.is_some()),
        ("--config", args.config.is_some()),
    ];
    if let Some((flag, _)) = given.iter().find(|(_, given)| *given) {
        return Err(SimError::Usage(format!(
            "{flag} does not apply to --policy opt: OPT knows the future and has no clock or cache to configure; give only --max-capacity"
        )));
    }
    let capacity = args
        .bounds
        .max_capacity
        .ok_or_else(|| SimError::Usage("--policy opt needs --max-capacity".into()))?;
    replay_opt(&args.trace, options, capacity, args.quiet)
}

fn replay_cache_args(
    args: &ReplayArgs,
    trace_options: TraceOptions,
) -> Result<ReplayReport, SimError> {
    let overrides = args.bounds.overrides(args.policy.and_then(PolicyArg::kind));
    let config = resolve_config(args.config.as_deref(), &overrides)?;
    let engine = match args.engine {
        None | Some(EngineArg::Policy) => Engine::Policy,
        Some(EngineArg::Cache) => Engine::Cache,
    };
    replay_trace(&args.trace, trace_options, &config, engine, args.quiet)
}

fn sweep(args: SweepArgs) -> Result<(), SimError> {
    let policies = if args.policies.is_empty() {
        SweepPolicy::all()
    } else {
        let parsed: Result<Vec<_>, _> = args
            .policies
            .iter()
            .map(|p| SweepPolicy::parse(p))
            .collect();
        parsed?
    };
    let threads = args
        .threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let options = SweepOptions {
        capacities: args.capacities,
        policies,
        ttl: args.time_to_idle.map(Into::into),
        threads,
    };
    let trace_options = TraceOptions {
        format: args.format.map(TraceFormat::from),
        lis_step: args.lis_step.into(),
    };
    let report = sweep_trace(&args.trace, trace_options, &options, args.quiet)?;
    let output_error = |path: &PathBuf| {
        let path = path.clone();
        move |source| SimError::Output { path, source }
    };
    std::fs::create_dir_all(&args.out).map_err(output_error(&args.out))?;
    let chart = args
        .out
        .join(format!("sweep-{}.svg", chart_stem(&args.trace)));
    std::fs::write(&chart, report.chart_svg()).map_err(output_error(&chart))?;
    if args.json {
        emit(&format!("{}\n", report.to_json(Some(&chart))))
    } else {
        emit(&report.table())?;
        emit(&format!(
            "\nChart of hit ratio against capacity: {}\n(took {:.1} s)\n",
            chart.display(),
            report.elapsed.as_secs_f64()
        ))
    }
}

/// The original fix every replica runs when neither `--policy` nor
/// `--config` is given: hybrid, 1 h idle, 10,000 entries (× `scale`), a
/// sweep every 5 minutes; flags given still override each number.
fn original_fix(bounds: &BoundArgs, scale: f64) -> ConfigOverrides {
    let capacity = (10_000.0 * scale).round().max(1.0) as usize;
    let mut overrides = bounds.overrides(Some(PolicyKind::Hybrid));
    overrides.max_capacity = overrides.max_capacity.or(Some(capacity));
    overrides.sweep_interval = overrides
        .sweep_interval
        .or(Some(std::time::Duration::from_secs(300)));
    overrides
}

fn fleet(args: FleetArgs) -> Result<(), SimError> {
    if args.policy == Some(PolicyArg::Opt) {
        return Err(SimError::Usage(
            "--policy opt cannot run in a fleet: OPT needs each replica's future, which depends on the routing; use `replay --policy opt` per replica".into(),
        ));
    }
    let overrides = match (args.policy, &args.config) {
        (None, None) => original_fix(&args.bounds, args.scale),
        (policy, _) => args.bounds.overrides(policy.and_then(PolicyArg::kind)),
    };
    let config = resolve_config(args.config.as_deref(), &overrides)?;
    let routings: Vec<Routing> = if args.routing.is_empty() {
        Routing::ALL.to_vec()
    } else {
        let mut routings: Vec<Routing> = Vec::new();
        for routing in args.routing.iter().copied().map(Routing::from) {
            if !routings.contains(&routing) {
                routings.push(routing);
            }
        }
        routings
    };
    let options = FleetOptions {
        replicas: args.replicas,
        routings,
        resizes: args.resize.clone(),
        seed: args.seed,
        engine: match args.engine {
            None | Some(EngineArg::Policy) => Engine::Policy,
            Some(EngineArg::Cache) => Engine::Cache,
        },
        threads: args
            .threads
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, NonZeroUsize::get),
    };
    let started = std::time::Instant::now();
    let report = match &args.trace {
        None => {
            let scenario = ScenarioOptions {
                seed: args.seed,
                scale: args.scale,
            };
            let traffic = generate_traffic(&scenario);
            let fleet = FleetTraffic::scenario(&traffic, &scenario);
            run_fleet(&fleet, &config, &options, args.quiet)?
        }
        Some(path) => {
            let trace_options = TraceOptions {
                format: args.format.map(TraceFormat::from),
                lis_step: args
                    .lis_step
                    .map_or(TraceOptions::default().lis_step, Into::into),
            };
            let (requests, _) = read_trace(path, trace_options, args.quiet)?;
            run_fleet(
                &FleetTraffic::trace(path, &requests),
                &config,
                &options,
                args.quiet,
            )?
        }
    };
    let output_error = |path: &PathBuf| {
        let path = path.clone();
        move |source| SimError::Output { path, source }
    };
    std::fs::create_dir_all(&args.out).map_err(output_error(&args.out))?;
    let mut charts = Vec::new();
    for routing in &report.routings {
        let chart = args.out.join(format!("fleet-{}.svg", routing.routing));
        std::fs::write(&chart, report.chart_svg(routing)).map_err(output_error(&chart))?;
        charts.push(chart);
    }
    if args.json {
        return emit(&format!("{}\n", report.to_json(&charts)));
    }
    emit(&report.table())?;
    let listed: Vec<String> = charts.iter().map(|c| c.display().to_string()).collect();
    emit(&format!(
        "\nCharts of live entries per replica over time: {}\n(took {:.1} s)\n",
        listed.join(", "),
        started.elapsed().as_secs_f64()
    ))
}
