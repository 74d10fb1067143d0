// Data files compiled into the hw library (generated from data/hw/ at configure time).
#pragma once

#include <string_view>

namespace mlsys::hw::internal {

/// The text of data/hw/gpu_specs.csv as it was when the build was configured.
std::string_view embedded_gpu_specs_csv();

}  // namespace mlsys::hw::internal
