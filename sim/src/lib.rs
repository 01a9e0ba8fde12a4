#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod chart;
mod error;
mod fleet;
mod fleet_report;
mod memory;
mod model;
pub mod opt;
mod parallel;
mod progress;
mod replay;
mod routing;
mod run;
pub mod scenario;
mod sweep;
mod trace;
mod units;

pub use chart::{RatioLine, Series, hit_ratio_svg, live_entries_svg};
pub use error::SimError;
pub use fleet::{
    FleetOptions, FleetReport, FleetTraffic, ReplicaRun, Resize, ResizeOutcome, RoutingReport,
    route_requests, run_fleet,
};
pub use memory::{
    PRIVATE_CLIENT_BYTES, SHARED_CLIENT_BYTES, SHARED_HTTP_STACK_BYTES, private_stack_bytes,
    shared_stack_bytes,
};
pub use model::{Model, PolicyModel, TenureModel, UnboundedMap, cache_hash};
pub use progress::{Progress, ProgressUnit};
pub use replay::{
    ConfigOverrides, DEFAULT_TTL, Engine, OPT_NAME, ReplayPolicy, ReplayReport, read_config_file,
    read_trace, replay_opt, replay_trace, resolve_config,
};
pub use routing::{
    HashRing, MAGLEV_TABLE_SIZE, MAX_REPLICAS, MaglevTable, RING_POINTS_PER_REPLICA, Router,
    Routing, key_hash, mix64,
};
pub use run::{RunOptions, RunStats, Sample, run};
pub use scenario::{ScenarioOptions, ScenarioReport, generate_traffic, run_scenario};
pub use sweep::{
    SweepCell, SweepOptions, SweepPolicy, SweepReport, bounded_policies, chart_stem, sweep_trace,
};
pub use trace::{
    Access, BytesRead, OpenTrace, TraceError, TraceFormat, TraceOptions, TraceReader, open_trace,
};
pub use units::{format_bytes, group_digits};
