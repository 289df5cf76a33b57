//! seds-core: the small, dependency-free pieces every other seds-lab crate shares.
//!
//! - [`metrics`]: retrieval metrics (R@K, MedR, MeanR) with SEDS' grouped-gallery semantics.
//! - [`rng`]: a deterministic, platform-independent random number generator.
//! - [`sink`]: the interface through which training code reports metrics and artifacts,
//!   so the model crate never depends on the run database.

pub mod metrics;
pub mod rng;
pub mod sink;

pub use metrics::{rank_pessimistic, retrieval_ranks, RetrievalMetrics, RetrievalRanks};
pub use rng::Rng;
pub use sink::{ArtifactRecord, MemorySink, MetricRecord, MetricSink, NullSink};
