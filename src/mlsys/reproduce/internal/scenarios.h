// Scenario entry points, one per file scenario_<name>.cpp.
#pragma once

#include "mlsys/reproduce/scenario.h"

namespace mlsys::reproduce {

Result<ScenarioReport> run_engine_scenario(const ScenarioOptions& options);
Result<ScenarioReport> run_flow_scenario(const ScenarioOptions& options);
Result<ScenarioReport> run_tccl_scenario(const ScenarioOptions& options);
Result<ScenarioReport> run_swing_scenario(const ScenarioOptions& options);
Result<ScenarioReport> run_aceso_scenario(const ScenarioOptions& options);
Result<ScenarioReport> run_adapipe_scenario(const ScenarioOptions& options);
Result<ScenarioReport> run_sarathi_scenario(const ScenarioOptions& options);
Result<ScenarioReport> run_distserve_scenario(const ScenarioOptions& options);
Result<ScenarioReport> run_vtc_scenario(const ScenarioOptions& options);
Result<ScenarioReport> run_aces_scenario(const ScenarioOptions& options);

Result<ScenarioReport> run_megatron_scenario(const ScenarioOptions& options);
Result<ScenarioReport> run_megascale_scenario(const ScenarioOptions& options);

}  // namespace mlsys::reproduce
