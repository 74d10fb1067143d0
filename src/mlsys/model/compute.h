// Compute time of operators on a GPU: a roofline with an achieved-efficiency table that is data
// (data/model/efficiency.csv, sources in its header), or measured per-operator profiles (the
// Aceso CSV format) as the cost source. Both sit behind ComputeModel.
//
//   Result<EfficiencyTable> eff = EfficiencyTable::builtin("a100");
//   RooflineModel roofline(*find_gpu("a100"), hw::Precision::kBf16, *eff);
//   Time t = roofline.forward(op);        // max(flops / (peak * eff(flops)), bytes / (bw * eff))
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/hw/catalog.h"
#include "mlsys/model/ops.h"

namespace mlsys::model {

/// Achieved fraction of peak by operator kind and size (Calculon-style step tables: the entry
/// with the largest threshold <= the op's GFLOPs (or MB for memory) applies).
class EfficiencyTable {
 public:
  struct Step {
    double threshold = 0;  // GFLOP for compute, MB for memory
    double efficiency = 1;
  };
  /// The shipped table for a GPU family ("a100", "h100", "v100", ... or "default").
  static Result<EfficiencyTable> builtin(std::string_view gpu_name);
  /// CSV: kind,threshold,efficiency with kind in {matrix, vector, memory}; file:line errors.
  static Result<EfficiencyTable> parse_csv(std::string_view text, std::string_view file);

  double matrix(double gflops) const;  // GEMM / attention tensor-core efficiency
  double vector(double gflops) const;  // non-tensor-core compute
  double memory(double mbytes) const;  // HBM bandwidth efficiency

  // Sorted by descending threshold.
  std::vector<Step> matrix_steps, vector_steps, memory_steps;
  std::string name;  // the builtin family ("a100", "h100", "default"); empty when parsed
};

/// Forward and backward time of one op. Backward includes input and weight gradients.
struct OpTime {
  Time forward;
  Time backward;
};

/// The cost source behind every compute-time question.
class ComputeModel {
 public:
  virtual ~ComputeModel() = default;
  virtual OpTime time(const Op& op) const = 0;
  /// Optimizer step over `params` elements held by this GPU (memory-bound Adam).
  virtual Time optimizer_step(double params) const = 0;
  virtual std::string describe() const = 0;
};

/// Roofline on a GPU spec with an efficiency table. A precision the GPU lacks (fp8 on A100) falls
/// back to its bf16 peak. GEMM/attention: max(flops / (peak * matrix_eff(GFLOP)),
/// bytes / (hbm * memory_eff(MB))), backward = the same at 2x FLOPs and 2x bytes. Norms,
/// elementwise and embedding: memory-bound, bytes / (hbm * memory_eff(MB)), backward at 2x bytes.
/// Optimizer: 30 bytes/param of Adam traffic over HBM (fp32 master, m, v, grad read; master, m, v
/// and the 16-bit copy written).
class RooflineModel final : public ComputeModel {
 public:
  RooflineModel(hw::GpuSpec gpu, hw::Precision precision, EfficiencyTable efficiency);
  OpTime time(const Op& op) const override;
  Time optimizer_step(double params) const override;
  std::string describe() const override;
  const hw::GpuSpec& gpu() const { return gpu_; }

 private:
  hw::GpuSpec gpu_;
  hw::Precision precision_;
  EfficiencyTable efficiency_;
};

/// One row of an Aceso operator profile (gpt_<size>_mbs<b>_tp<t>_algo<a>.csv).
struct ProfiledOp {
  std::string name;
  Time forward, backward;
  double input_mb = 0, output_mb = 0, weights_mb = 0, activations_mb = 0;
  double fwd_reserved_mb = 0, bwd_reserved_mb = 0;
};

/// Measured per-op profiles keyed by (micro-batch, tp, algo), read from a directory of Aceso
/// CSVs, plus its collective tables (prim_*_{all_reduce,...}_<n>gpus.csv) and p2p bandwidth.
class ProfileDb {
 public:
  static Result<ProfileDb> load_aceso_dir(const std::string& dir);
  /// The op list for (mbs, tp, algo); kNotFound names the missing file.
  Result<std::vector<ProfiledOp>> ops(int64_t micro_batch, int64_t tp, int algo) const;
  /// Interpolated collective time ("all_reduce", "all_gather", "reduce_scatter", "all_to_all")
  /// for `bytes` over `gpus` ranks; kNotFound when not profiled.
  Result<Time> collective(std::string_view kind, int64_t gpus, Bytes bytes) const;
  /// Point-to-point time for a message (intra-node curve).
  Time p2p(Bytes bytes) const;
  std::vector<int64_t> micro_batches() const;
  std::vector<int64_t> tensor_parallel() const;

  struct Impl;
  std::shared_ptr<const Impl> impl;
};

}  // namespace mlsys::model
