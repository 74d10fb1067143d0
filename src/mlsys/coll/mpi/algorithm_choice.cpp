#include "mlsys/coll/mpi/algorithm_choice.h"

#include <algorithm>

#include "mlsys/coll/algorithms.h"

namespace mlsys::coll {
namespace {

constexpr int64_t kLatencyThresholdBytes = 128 * 1024;

// Where to go when `name` cannot run on these parameters; empty: nowhere (ring runs everywhere).
std::string_view fallback_of(std::string_view name) {
  if (name == "swing-bw") return "rabenseifner";
  if (name == "swing-lat") return "recdoub";
  if (name == "ring") return "";
  return "ring";
}

}  // namespace

std::string auto_algorithm(Collective collective, Bytes bytes, int ranks) {
  const bool even = ranks % 2 == 0;
  if (collective == Collective::kAllreduce) {
    if (bytes.count() < kLatencyThresholdBytes) return "recdoub";
    return even ? "swing-bw" : "rabenseifner";
  }
  return even ? "swing-bw" : "ring";
}

Result<AlgorithmChoice> choose_algorithm(std::string_view name, const AlgorithmParams& params, Bytes bytes) {
  AlgorithmChoice choice;
  choice.requested =
      name == "auto" ? auto_algorithm(params.collective, bytes, params.ranks) : std::string(name);
  auto first = make_algorithm(choice.requested, params);
  if (first) {
    choice.algorithm = std::move(*first);
    return choice;
  }
  // Only "this algorithm cannot run these parameters" falls back; unknown names, names the
  // collective lacks and bad parameters (a torus not multiplying to the ranks) are the caller's.
  const auto names = algorithm_names(params.collective);
  const bool offered = std::find(names.begin(), names.end(), choice.requested) != names.end();
  if (!offered || first.error().code() != ErrorCode::kUnsupported) return first.error();
  std::string reasons = choice.requested + " does not run here (" + first.error().message() + ")";
  // The fallbacks run single-port: the port count was the requested algorithm's.
  AlgorithmParams single_port = params;
  single_port.ports = 1;
  for (std::string_view next = fallback_of(choice.requested); !next.empty(); next = fallback_of(next)) {
    auto algo = make_algorithm(next, single_port);
    if (algo) {
      choice.algorithm = std::move(*algo);
      choice.note = reasons + "; running " + std::string(next);
      return choice;
    }
    if (algo.error().code() != ErrorCode::kUnsupported) return algo.error();
    reasons += "; " + std::string(next) + " does not run here (" + algo.error().message() + ")";
  }
  return first.error();
}

}  // namespace mlsys::coll
