// Batch-time models: how long one serving iteration takes, from what is in the batch (prefill
// chunks with their prior context, decode requests with their context). One interface, two kinds
// of source: the roofline over model/'s operator list (any model, any GPU, TP and PP), and
// calibration fits of published measurements (Sarathi-Serve's Yi-34B TP2 runs, DistServe's
// fitted OPT coefficients).
//
//   BatchShape b;  b.add_prefill(/*chunk=*/512, /*prior=*/1024);  b.add_decode(/*context=*/900);
//   MLSYS_ASSIGN_OR_RETURN(auto m, make_roofline_batch_time(spec, gpu, {.tp = 2}));
//   Time t = m->stage_time(b);          // one pipeline stage; the whole iteration when pp = 1
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/hw/catalog.h"
#include "mlsys/model/model.h"

namespace mlsys::serve {

/// What one iteration computes, reduced to the sums every model needs (O(1) to evaluate).
/// A prefill chunk of c query tokens after p tokens already in the KV cache attends to
/// c·p + c²/2 (query, key) pairs; `prefill_square` keeps Σ c·(c + 2p), which equals Σ len² for
/// whole prompts (DistServe's feature) and is twice the causal pair count.
struct BatchShape {
  int64_t prefill_requests = 0;
  int64_t prefill_tokens = 0;    // Σ chunk
  double prefill_square = 0;     // Σ chunk·(chunk + 2·prior)
  int64_t prefill_kv = 0;        // Σ (prior + chunk): KV tokens the prefill attention reads
  int64_t decode_requests = 0;   // one query token each
  int64_t decode_context = 0;    // Σ context: KV tokens the decode attention reads

  void add_prefill(int64_t chunk, int64_t prior) {
    ++prefill_requests;
    prefill_tokens += chunk;
    prefill_square += static_cast<double>(chunk) * static_cast<double>(chunk + 2 * prior);
    prefill_kv += prior + chunk;
  }
  void add_decode(int64_t context) {
    ++decode_requests;
    decode_context += context;
  }
  int64_t tokens() const { return prefill_tokens + decode_requests; }
  bool empty() const { return prefill_requests == 0 && decode_requests == 0; }
};

/// The time source behind every replica. Implementations are immutable after construction
/// except for internal memo tables; one instance must not be shared between threads.
class BatchTimeModel {
 public:
  virtual ~BatchTimeModel() = default;
  /// Time of `batch` on one pipeline stage (all of the model's layers when pp = 1), including
  /// that stage's tensor-parallel all-reduces and its send to the next stage.
  virtual Time stage_time(const BatchShape& batch) const = 0;
  virtual int64_t pipeline_stages() const { return 1; }
  virtual std::string describe() const = 0;
};

struct ParallelConfig {
  int64_t tp = 1;
  int64_t pp = 1;
};

struct RooflineBatchOptions {
  int64_t tp = 1;
  int64_t pp = 1;
  hw::Precision precision = hw::Precision::kBf16;
  /// Link for TP all-reduce and PP send/recv; zero bandwidth: the GPU's NVLink (or 25 GB/s
  /// PCIe 4 when it has none).
  Bandwidth link_bandwidth;
  /// Fixed cost per all-reduce: Vidur adds 0.02 ms of NCCL launch to every TP all-reduce.
  Time allreduce_latency = us(20);
};

/// Roofline over model/'s layer_ops: GEMMs/norms/elementwise timed for the batch's token count
/// (memoised per count), attention built from the shape's sums (prefill: 2·heads·head_dim·Σc(c+2p)
/// FLOPs per layer and rank; decode: reads Σcontext KV tokens), two ring all-reduces of
/// tokens × hidden × 2 B per layer when tp > 1, and a send of the activations when pp > 1.
/// Embedding and LM head are not counted (as in Vidur). Errors: tp not dividing the heads,
/// layers not divisible by pp, no efficiency table.
Result<std::unique_ptr<BatchTimeModel>> make_roofline_batch_time(const model::ModelSpec& spec,
                                                                const hw::GpuSpec& gpu,
                                                                const RooflineBatchOptions& options);

/// A fitted model: prefill_ms = a + b·tokens + c·square (DistServe's form, with decode tokens
/// counted as chunks of one), decode_ms = a + b·Σcontext + c·requests (two regimes split at
/// `large_batch_threshold`) or a piecewise-linear table by decode batch size. A mixed batch
/// takes the larger of the two; the total is divided over `pp` stages plus `pp_overhead` each.
struct FittedCoefficients {
  double a = 0, b = 0, c = 0;
};
struct FittedBatchTimeSpec {
  std::string name;  // "yi-34b tp2 a100 (Sarathi-Serve fig. 2)"
  FittedCoefficients prefill;
  FittedCoefficients decode_small;
  FittedCoefficients decode_large;
  int64_t large_batch_threshold = 0;  // 0: decode_small for every batch
  std::vector<std::pair<int64_t, double>> decode_table_ms;  // (batch, ms); non-empty: used instead
  int64_t pp = 1;
  double pp_overhead_ms = 0;  // DistServe adds 1 ms per stage
};
std::unique_ptr<BatchTimeModel> make_fitted_batch_time(FittedBatchTimeSpec spec);

/// Least-squares fit of prefill_ms = a + b·len + c·len² to (len, ms) points, minimising relative
/// error (each row weighted by 1/ms). Errors: fewer than 3 points, singular system.
Result<FittedCoefficients> fit_prefill(const std::vector<std::pair<int64_t, double>>& points);

/// Sarathi-Serve's measured Yi-34B TP2 A100 iteration times (OSDI artifact, figure 2): prefill
/// fitted by fit_prefill over the prefill runs (the 256-token warm-up outlier dropped), decode a
/// table by batch size.
FittedBatchTimeSpec sarathi_yi34b_tp2_spec();
/// The measured points behind it: (prompt tokens, ms) and (decode batch, ms).
const std::vector<std::pair<int64_t, double>>& sarathi_yi34b_prefill_points();
const std::vector<std::pair<int64_t, double>>& sarathi_yi34b_decode_points();

/// DistServe's fitted A100-80GB coefficients (simdistserve profile, "distserve" backend) for
/// "opt-13b" (tp 1, 2, 4) and "opt-66b" (tp 2, 3, 4, 8); kNotFound lists what exists. pp divides the time and adds 1 ms per stage, as DistServe's estimator does.
Result<FittedBatchTimeSpec> distserve_spec(std::string_view model, int64_t tp, int64_t pp);
/// The (model, tp) pairs distserve_spec knows.
std::vector<std::pair<std::string, int64_t>> distserve_profiles();

}  // namespace mlsys::serve
