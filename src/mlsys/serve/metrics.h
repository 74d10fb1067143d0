// Serving metrics: per-request latencies (TTFT, TBT, TPOT, end-to-end, normalized, scheduling
// delay), percentiles, throughput, SLO attainment and goodput, and per-client service for fairness.
// Streaming: a MetricsCollector keeps O(requests) scalars, not per-token records, unless asked.
//
//   MetricsCollector m(MetricsOptions{});
//   m.on_token(req, now); ... m.on_finish(req, now);
//   Summary s = m.summary(slo);     // s.ttft.p99, s.throughput_rps, s.slo_attainment
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlsys/core/units.h"
#include "mlsys/serve/workload.h"

namespace mlsys::serve {

struct Slo {
  std::optional<Time> ttft;   // time to first token
  std::optional<Time> tpot;   // mean time per output token after the first (DistServe)
  std::optional<Time> tbt_p99;  // P99 of time between tokens (Sarathi)
  Time max_median_scheduling_delay = sec(2);  // Sarathi's capacity definition
};

struct Percentiles {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;  // seconds
};

struct Summary {
  int64_t requests = 0;            // finished
  double duration_s = 0;           // first arrival to last finish
  double throughput_rps = 0;
  double output_tokens_per_s = 0;
  Percentiles ttft, tbt, tpot, e2e, normalized_e2e, scheduling_delay;
  double slo_attainment = 0;       // fraction meeting every set per-request SLO (TTFT, TPOT)
  double goodput_rps = 0;          // requests meeting the SLO / duration
  int64_t preemptions = 0;
  // Fairness (VTC): max over time of the service difference between clients that were all
  // backlogged, in weighted tokens (w_in * prompt + w_out * output).
  double max_service_difference = 0;
  std::vector<double> client_service;  // cumulative service per client id (weighted tokens)
  int64_t unfinished = 0;              // seen but not finished when summarised
};

struct MetricsOptions {
  bool keep_token_times = false;   // per-token timestamps (for --trace / detailed output)
  double w_in = 1.0, w_out = 2.0;  // VTC service weights
  /// > 0: sample every client's cumulative service at multiples of this (service_series()).
  Time service_sample_interval = Time::zero();
};

/// Every client's cumulative service (weighted tokens, by client id) at `time`.
struct ServiceSample {
  Time time;
  std::vector<double> service;
};

/// Percentiles over a sample (nearest-rank on the sorted values; empty: all zero).
/// Nearest rank: the p-th percentile of n values is the ceil(p/100 * n)-th smallest (1-based).
Percentiles percentiles(std::vector<double> values);

/// DDSketch (Masson, Rim, Lee, VLDB 2019): a streaming quantile sketch with relative accuracy.
/// Values v > 0 fall in log buckets (gamma^(k-1), gamma^k] with gamma = (1 + a) / (1 - a); a
/// quantile is its bucket's midpoint 2 gamma^k / (gamma + 1), within a relative error a of the
/// exact nearest-rank value. Memory: one counter per bucket between the smallest and largest
/// value (about 230 per factor of 10 at a = 0.005), independent of the number of values.
class DDSketch {
 public:
  explicit DDSketch(double relative_accuracy = 0.005);
  /// Adds a value >= 0 (values below 1e-12 count as zero, which is kept exactly).
  void add(double value);
  int64_t count() const { return count_; }
  double sum() const { return sum_; }
  double min() const { return count_ ? min_ : 0; }
  double max() const { return count_ ? max_ : 0; }
  double relative_accuracy() const { return alpha_; }
  /// Nearest-rank quantile for q in [0, 1] (0 when empty); exact at q = 0 and 1 (min, max).
  double quantile(double q) const;
  /// mean (exact), p50, p90, p99 (sketched), max (exact).
  Percentiles percentiles() const;

 private:
  double alpha_, gamma_, log_gamma_, inv_log_gamma_;
  int64_t offset_ = 0;             // bucket index of counts_[0]
  std::vector<int64_t> counts_;
  int64_t zeros_ = 0, count_ = 0;
  double sum_ = 0, min_ = 0, max_ = 0;
  double last_value_ = -1;
  int64_t last_index_ = 0;
};

/// One finished request, for per-request output and timelines.
struct RequestRecord {
  int64_t id = 0, client = 0;
  int64_t prompt_tokens = 0, output_tokens = 0;  // output: tokens reported (request's when none)
  Time arrival, scheduled, first_token, finish;  // scheduled = arrival when never reported
  int64_t preemptions = 0;
  std::vector<Time> token_times;                 // with keep_token_times only
};

/// Sarathi-Serve's capacity condition: P99 TBT within slo.tbt_p99 (when set) and median
/// scheduling delay within slo.max_median_scheduling_delay.
bool meets_sarathi_slo(const Summary& summary, const Slo& slo);
/// DistServe's condition: at least `target` of the requests meet both TTFT and TPOT SLOs.
bool meets_distserve_slo(const Summary& summary, double target = 0.9);

/// Request ids are >= 0 and dense (a Workload's 0..n-1): per-request state is a vector indexed
/// by id. Callbacks for a request after its on_finish are a bug (MLSYS_CHECK).
class MetricsCollector {
 public:
  explicit MetricsCollector(MetricsOptions options = {});
  void on_arrival(const Request& request);
  /// First scheduled (prefill starts): scheduling delay = now - arrival. Later calls (after a
  /// preemption) are ignored.
  void on_scheduled(const Request& request, Time now);
  /// One output token of `request` produced at `now` (the first one ends the prefill). Tokens
  /// of one request come in time order. TBT: every gap between consecutive tokens.
  void on_token(const Request& request, Time now);
  /// Once per request. A request that reported no tokens counts its finish as its first token.
  void on_finish(const Request& request, Time now);
  void on_preemption(const Request& request);
  /// Service received by a client (weighted tokens, >= 0) at `now`, and whether each client is
  /// backlogged, for the service-difference metric. Client ids are >= 0 and dense (a vector
  /// holds them); the pairwise state costs O(clients^2) memory and O(backlogged clients) per call.
  void on_service(int64_t client, double weighted_tokens, Time now);
  void set_backlogged(int64_t client, bool backlogged, Time now);
  /// VTC's weighted service of `tokens` input (prefill) or output tokens, with the options' weights.
  double input_service(int64_t tokens) const;
  double output_service(int64_t tokens) const;

  Summary summary(const Slo& slo) const;
  /// Finished requests in finishing order (token_times filled with keep_token_times).
  std::vector<RequestRecord> records() const;
  /// Per-client service over time, one sample per service_sample_interval up to the last
  /// on_service/set_backlogged call (empty unless the interval is set).
  const std::vector<ServiceSample>& service_series() const;

  struct Impl;
 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace mlsys::serve
