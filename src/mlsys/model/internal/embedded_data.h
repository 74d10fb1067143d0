// Data files compiled into the model library (generated from data/model/ at configure time).
#pragma once

#include <string_view>

namespace mlsys::model::internal {

/// The text of data/model/efficiency.csv as it was when the build was configured.
std::string_view embedded_efficiency_csv();

}  // namespace mlsys::model::internal
