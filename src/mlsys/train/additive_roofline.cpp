#include "mlsys/train/additive_roofline.h"

namespace mlsys::train {
namespace {

constexpr double kGiga = 1e9;
constexpr double kMega = 1e6;

}  // namespace

AdditiveRooflineModel::AdditiveRooflineModel(hw::GpuSpec gpu, hw::Precision precision,
                                             model::EfficiencyTable efficiency)
    : gpu_(gpu), precision_(precision), efficiency_(efficiency), max_model_(gpu, precision, efficiency) {}

model::OpTime AdditiveRooflineModel::time(const model::Op& op) const {
  const double tensor = gpu_.peak(precision_).value_or(gpu_.bf16_dense).base();
  // Non-tensor-core math: the GPU's fp32 rate where published (as model::RooflineModel does).
  const double vector = gpu_.fp32 ? gpu_.fp32->base() : tensor / 16.0;
  const double hbm = gpu_.hbm_bandwidth.base();
  auto mem = [&](double bytes) { return bytes > 0 ? bytes / (hbm * efficiency_.memory(bytes / kMega)) : 0.0; };
  auto matrix = [&](double flops) { return flops > 0 ? flops / (tensor * efficiency_.matrix(flops / kGiga)) : 0.0; };
  auto vec = [&](double flops) { return flops > 0 ? flops / (vector * efficiency_.vector(flops / kGiga)) : 0.0; };
  switch (op.kind) {
    case model::OpKind::kGemm:
    case model::OpKind::kAttention:
      return {from_seconds(matrix(op.flops) + mem(op.bytes)), from_seconds(matrix(2 * op.flops) + mem(2 * op.bytes))};
    case model::OpKind::kNorm:
    case model::OpKind::kElementwise:
    case model::OpKind::kEmbedding:
      return {from_seconds(vec(op.flops) + mem(op.bytes)), from_seconds(vec(2 * op.flops) + mem(2 * op.bytes))};
    case model::OpKind::kOptimizer:
      return {optimizer_step(op.params), Time::zero()};
  }
  return {};
}

Time AdditiveRooflineModel::optimizer_step(double params) const { return max_model_.optimizer_step(params); }

std::string AdditiveRooflineModel::describe() const {
  return "additive roofline (Calculon no_overlap) on " + gpu_.name;
}

}  // namespace mlsys::train
