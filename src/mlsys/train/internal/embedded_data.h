// Data files compiled into the train library (generated from data/train/ at configure time).
#pragma once

#include <string_view>

namespace mlsys::train::internal {

/// The text of data/train/network.csv as it was when the build was configured.
std::string_view embedded_network_csv();

}  // namespace mlsys::train::internal
