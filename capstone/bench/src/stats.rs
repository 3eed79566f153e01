//! Medians and percentiles of measurements.

use std::time::Duration;

/// The median of `values` (the upper of the two middle ones for an even
/// count), or `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied()
}

/// The `p`-th percentile (0 to 100) of `values` by the nearest-rank method:
/// the smallest value that at least `p` percent of the values are at or
/// below. `None` when there are none.
pub fn percentile(values: &[Duration], p: f64) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied()
}

/// A duration in milliseconds, for tables.
pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}
