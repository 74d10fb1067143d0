// A training parallel plan and the cluster it runs on, and what the simulator predicts for it.
//
//   Plan plan{.tp = 8, .pp = 16, .dp = 8, .micro_batch = 1, .global_batch = 1536, .seq = 2048};
//   MLSYS_RETURN_IF_ERROR(check_plan(model, cluster, plan));     // names the violated constraint
//   Result<Prediction> p = simulate_iteration(model, cluster, plan, {});
//   double mfu = p->mfu;
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/hw/catalog.h"
#include "mlsys/model/compute.h"
#include "mlsys/model/model.h"

namespace mlsys::train {

enum class Schedule { kGpipe, k1F1B, kInterleaved };
enum class Recompute { kNone, kSelective, kFull };
std::string_view to_string(Schedule schedule);
std::string_view to_string(Recompute recompute);
/// "gpipe", "1f1b", "interleaved:V" (V chunks per device).
Result<std::pair<Schedule, int64_t>> parse_schedule(std::string_view text);
Result<Recompute> parse_recompute(std::string_view text);

struct Plan {
  int64_t tp = 1, pp = 1, dp = 1;
  int64_t ep = 1;                 // expert parallel (MoE); experts split over ep ranks inside dp
  int64_t micro_batch = 1;        // b
  int64_t global_batch = 1;       // B (sequences)
  int64_t seq = 2048;             // s
  Schedule schedule = Schedule::k1F1B;
  int64_t virtual_stages = 1;     // v, interleaved only
  Recompute recompute = Recompute::kNone;
  int zero_stage = 1;             // 0: plain DP; 1: distributed optimizer; 2: + grads; 3: + params
  bool sequence_parallel = true;
  // Overlap switches.
  bool overlap_dp = true;         // gradient reduce during backward (and param gather, ZeRO-3)
  bool overlap_tp = false;        // TP comm overlapped with GEMMs (MegaScale fused/chunked)
  bool overlap_pp = true;         // async send/recv overlapped with compute
  // MegaScale's model-side options.
  bool parallel_block = false;    // attention and MLP in parallel: one TP collective pair per layer
  int64_t sliding_window = 0;     // 0: model default
  // Attention kernels skip the masked half of causal attention (FlashAttention-2, MegaScale's
  // "efficient operators"); false: the full s^2 is computed, as Megatron-LM did in 2021.
  bool flash_attention = false;
  hw::Precision precision = hw::Precision::kBf16;
  // Non-uniform plans (planners). Empty: L/pp layers per stage and `recompute` everywhere.
  std::vector<int64_t> layers_per_stage;
  std::vector<Recompute> recompute_per_stage;

  int64_t gpus() const { return tp * pp * dp; }
  int64_t micro_batches() const { return global_batch / (micro_batch * dp); }  // m
  /// Model chunks per stage: v for the interleaved schedule, else 1.
  int64_t chunks() const { return schedule == Schedule::kInterleaved ? virtual_stages : 1; }
  /// Layers on stage `stage` (layers_per_stage, else L / pp).
  int64_t stage_layers(int64_t total_layers, int64_t stage) const;
  /// Recomputation on stage `stage` (recompute_per_stage, else `recompute`).
  Recompute stage_recompute(int64_t stage) const;
};

/// MegaScale's option set (Jiang et al., NSDI'24, section 3): parallel transformer block, TP/PP/DP
/// communication overlap and FlashAttention-2. Sliding-window attention needs a window and
/// is left to the caller (`sliding_window`).
void apply_megascale(Plan& plan);
/// The Megatron-LM baseline of the same paper: serial block, DP and PP overlap as Megatron-LM
/// does it (overlapped gradient reduce, async p2p), no TP overlap, no FlashAttention.
void apply_megatron_baseline(Plan& plan);
/// Megatron-LM as the SC'21 paper ran it (2021): no overlap at all -- the data-parallel
/// all-reduce ran after the backward pass and pipeline send/recv waited for completion.
void apply_megatron_sc21(Plan& plan);

/// The machine: GPU type, count, node size and the two network tiers. The topology builders
/// in hw/ give the same numbers; this is the summary the cost model needs.
struct Cluster {
  hw::GpuSpec gpu;
  int64_t gpus = 0;
  int64_t gpus_per_node = 8;
  Bandwidth intra_node;           // per GPU per direction (NVLink)
  Bandwidth inter_node;           // per GPU per direction (NIC)
  Time intra_latency = Time::zero();
  Time inter_latency = Time::zero();
  double intra_efficiency = 1.0;  // achieved / nominal
  double inter_efficiency = 1.0;
  /// Operator time = compute + memory time (Calculon's "no_overlap" processing mode, which its
  /// efficiency tables were validated with) rather than the larger of the two.
  bool additive_compute = true;
};
/// The standard node for `gpu` (DGX/HGX: NVLink per direction, one NIC per GPU), with the
/// achieved efficiency and latency per tier from data/train/network.csv (Calculon's figures).
/// Errors: gpus < 1, or more than one node and gpus not a multiple of the node size.
Result<Cluster> make_cluster(const hw::GpuSpec& gpu, int64_t gpus);

/// Bytes per GPU by category.
struct Memory {
  double weights = 0, gradients = 0, optimizer = 0, activations = 0, buffers = 0;
  double total() const { return weights + gradients + optimizer + activations + buffers; }
};

/// Where one iteration's time goes on the critical path.
struct Breakdown {
  Time compute, recompute, bubble;
  Time tp_exposed, pp_exposed, dp_exposed, ep_exposed;
  Time optimizer;
};

struct Prediction {
  Time iteration_time;
  double tokens_per_s = 0;
  double tflops_per_gpu = 0;      // model FLOPs (convention below) / time / GPUs
  double mfu = 0, hfu = 0;
  Memory memory;                  // the fullest GPU (first stage)
  bool fits = true;               // memory.total() <= GPU HBM
  Breakdown breakdown;
  std::vector<Memory> memory_per_stage;
  std::vector<Time> stage_time;   // per micro-batch forward+backward(+recompute) per stage
};

/// Checks TP*PP*DP == GPUs, heads % TP, layers >= stages, batch divisibility, ... Errors name the
/// violated constraint and the numbers: "tp*pp*dp = 8*16*4 = 512 but --gpus is 1024".
Status check_plan(const model::ModelSpec& model, const Cluster& cluster, const Plan& plan);

}  // namespace mlsys::train
