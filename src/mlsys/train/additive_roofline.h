// Calculon's "no_overlap" processing mode as a ComputeModel: an operator's time is its compute
// time plus its memory time, not the larger of the two.
//
//   AdditiveRooflineModel m(gpu, hw::Precision::kBf16, *model::EfficiencyTable::builtin("a100"));
//   Time t = m.time(op).forward;   // flops / (peak * eff(flops)) + bytes / (hbm * eff(bytes))
//
// Why: the shipped efficiency tables (data/model/efficiency.csv) are Calculon's, and Calculon's
// validated A100/H100 systems (systems/a100_80g.json, h100_80g_nvl8.json, calculon-ai/calculon
// caa4b11) pair them with "processing_mode": "no_overlap". Cluster::additive_compute (default
// true) selects it; false uses the plain model::RooflineModel (max).
#pragma once

#include <string>

#include "mlsys/model/compute.h"

namespace mlsys::train {

class AdditiveRooflineModel final : public model::ComputeModel {
 public:
  AdditiveRooflineModel(hw::GpuSpec gpu, hw::Precision precision, model::EfficiencyTable efficiency);
  model::OpTime time(const model::Op& op) const override;
  Time optimizer_step(double params) const override;
  std::string describe() const override;

 private:
  hw::GpuSpec gpu_;
  hw::Precision precision_;
  model::EfficiencyTable efficiency_;
  model::RooflineModel max_model_;  // the optimizer step (pure memory traffic) is the same in both
};

}  // namespace mlsys::train
