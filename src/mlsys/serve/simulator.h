// The serving simulator: replicas doing iteration-level batching on the sim/ engine, each with a
// paged KV cache and a scheduler named after its paper, behind a global router; or DistServe's
// disaggregated prefill and decode instances with KV-cache transfer between them.
//
//   SimConfig c{.scheduler = SchedulerKind::kSarathi, .replicas = 8, .time = model, .num_blocks = 7424};
//   MLSYS_ASSIGN_OR_RETURN(SimResult r, simulate(workload, c));
//   Summary s = r.metrics.summary(Slo{.tbt_p99 = ms(100)});
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/serve/batch_time.h"
#include "mlsys/serve/metrics.h"
#include "mlsys/serve/workload.h"

namespace mlsys::serve {

/// Replica schedulers. Batching: kFasterTransformer (request-level), kOrca (iteration-level,
/// whole prefills mixed with decodes), kVllm (prefill-prioritising, recompute preemption),
/// kSarathi (decode-first, chunked prefills under a token budget). Queue policies on vLLM
/// batching: kVtc (virtual token counter with counter lift), kLcf (least counter first, no lift),
/// kRpm (per-client requests-per-minute admission limit). kDistServe: disaggregated instances.
enum class SchedulerKind { kFasterTransformer, kOrca, kVllm, kSarathi, kVtc, kLcf, kRpm, kDistServe };

/// "fcfs" (FasterTransformer), "orca", "vllm", "sarathi", "vtc", "lcf", "rpm", "distserve".
Result<SchedulerKind> parse_scheduler(std::string_view name);
std::string_view to_string(SchedulerKind kind);

enum class RouterKind { kRoundRobin, kLeastOutstanding };
/// "rr" / "round-robin", "least" / "least-outstanding".
Result<RouterKind> parse_router(std::string_view name);
std::string_view to_string(RouterKind kind);

struct SchedulerOptions {
  int64_t max_num_seqs = 128;         // running requests per replica (Vidur batch_size_cap)
  int64_t max_batched_tokens = 4096;  // vLLM prefill batch limit (also DistServe prefill batch)
  int64_t token_budget = 512;         // Sarathi chunk size
  int64_t block_size = 16;
  double watermark = 0.01;            // fraction of blocks new admissions keep free
  int64_t max_model_len = 4096;       // longer prompts are ignored; Orca/FT reserve this much
  bool swap = false;                  // vLLM: preempt by swapping to CPU instead of recompute
  int64_t swap_blocks = 0;            // CPU blocks for swap
  Bandwidth swap_bandwidth = GBps(24);  // PCIe 4 x16
  Bytes block_bytes;                  // per GPU, to time swaps
  // VTC (Sheng et al., OSDI'24): service = w_in · input + w_out · output tokens.
  double w_in = 1.0;
  double w_out = 2.0;
  std::vector<double> client_weights;  // weighted VTC; empty: every client 1
  int64_t rpm_limit = 30;              // kRpm: requests per client per 60 s
};

/// DistServe: `prefill_instances` and `decode_instances`, each with its own time model (own TP/PP)
/// and KV capacity; a finished prefill's KV cache moves to a decode instance over `kv_link`.
struct DistServeConfig {
  int64_t prefill_instances = 1;
  int64_t decode_instances = 1;
  std::shared_ptr<const BatchTimeModel> prefill_time;
  std::shared_ptr<const BatchTimeModel> decode_time;
  int64_t prefill_blocks = 0;
  int64_t decode_blocks = 0;
  Bytes kv_bytes_per_token;           // whole model (every layer and KV head)
  Bandwidth kv_link = GBps(300);      // NVLink within a node by default
  Time kv_link_latency = us(10);
};

/// What a run can report as it goes (fairness property tests, timelines).
class SimObserver {
 public:
  virtual ~SimObserver() = default;
  /// Weighted tokens (w_in per prefill token, w_out per output token) served to `client`.
  virtual void on_service(int64_t /*client*/, double /*weighted_tokens*/, Time /*now*/) {}
  /// `client` has requests waiting (true) or none (false) across the cluster.
  virtual void on_backlog(int64_t /*client*/, bool /*backlogged*/, Time /*now*/) {}
};

struct SimConfig {
  SchedulerKind scheduler = SchedulerKind::kSarathi;
  SchedulerOptions options;
  int64_t replicas = 1;
  RouterKind router = RouterKind::kRoundRobin;
  std::shared_ptr<const BatchTimeModel> time;  // per-replica iteration time (not kDistServe)
  int64_t num_blocks = 0;                      // KV blocks per replica
  DistServeConfig distserve;
  MetricsOptions metrics;
  bool record_iterations = false;  // keep one IterationRecord per batch (for --trace)
  SimObserver* observer = nullptr;
};

struct IterationRecord {
  int32_t instance = 0;       // replica, or DistServe instance (prefill first, then decode)
  Time start, end;
  int32_t prefill_requests = 0;
  int32_t prefill_tokens = 0;
  int32_t decode_requests = 0;
};

struct InstanceStats {
  std::string name;           // "replica 0", "prefill 1", "decode 0"
  int64_t iterations = 0;
  Time busy;                  // time with a batch on stage 0
  int64_t peak_blocks = 0;
  int64_t requests = 0;       // routed to it
};

struct SimResult {
  MetricsCollector metrics;
  int64_t requests = 0;       // offered
  int64_t finished = 0;
  int64_t ignored = 0;        // prompt longer than max_model_len or than the whole KV cache
  int64_t aborted = 0;        // refused by the RPM limit
  int64_t preemptions = 0;
  int64_t swaps = 0;
  int64_t iterations = 0;
  int64_t kv_transfers = 0;
  Time kv_transfer_time;      // summed over transfers
  Time end_time;
  uint64_t events = 0;
  double wall_seconds = 0;
  std::vector<InstanceStats> instances;
  std::vector<IterationRecord> iterations_log;  // with record_iterations
};

/// Runs `workload` to completion. Errors: missing time model, no KV blocks, replicas < 1,
/// non-positive scheduler limits (the message names the field).
Result<SimResult> simulate(const Workload& workload, const SimConfig& config);

}  // namespace mlsys::serve
