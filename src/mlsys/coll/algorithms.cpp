#include "mlsys/coll/algorithms.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "mlsys/coll/internal/families.h"
#include "mlsys/coll/internal/schedule_tools.h"
#include "mlsys/core/strings.h"

namespace mlsys::coll {
namespace {

using Factory = Result<internal::AlgorithmPtr> (*)(const AlgorithmParams&);

struct Entry {
  std::string_view name;
  std::vector<Collective> collectives;
  Factory make;
};

const std::vector<Entry>& registry() {
  using C = Collective;
  static const std::vector<Entry> entries = {
      {"ring", {C::kAllreduce, C::kReduceScatter, C::kAllgather}, internal::make_ring},
      {"recdoub", {C::kAllreduce}, internal::make_recursive_doubling},
      {"rabenseifner", {C::kAllreduce, C::kReduceScatter, C::kAllgather}, internal::make_rabenseifner},
      {"bucket", {C::kAllreduce, C::kReduceScatter, C::kAllgather}, internal::make_bucket},
      {"swing-lat", {C::kAllreduce}, internal::make_swing_latency},
      {"swing-bw", {C::kAllreduce, C::kReduceScatter, C::kAllgather}, internal::make_swing_bandwidth},
      {"dbtree", {C::kAllreduce}, internal::make_double_binary_tree},
      {"hierarchical", {C::kAllreduce}, internal::make_hierarchical},
      {"pairwise", {C::kAlltoall}, internal::make_pairwise_alltoall},
      {"bruck", {C::kAlltoall}, internal::make_bruck_alltoall},
      {"2dh", {C::kAlltoall}, internal::make_2dh_alltoall},
      {"pipe-a2a", {C::kAlltoall}, internal::make_pipe_alltoall},
  };
  return entries;
}

Status check_params(const AlgorithmParams& p) {
  if (p.ranks < 1) {
    return invalid_input("ranks must be at least 1, got " + std::to_string(p.ranks),
                         "give a positive number of ranks");
  }
  int64_t product = 1;
  for (int d : p.torus) {
    if (d < 1) {
      return invalid_input("torus " + internal::dims_text(p.torus) + " has a dimension smaller than 1",
                           "every dimension needs at least one rank, e.g. 8x8");
    }
    product *= d;
    if (product > int64_t{1} << 31) break;
  }
  if (!p.torus.empty() && product != p.ranks) {
    return invalid_input("torus " + internal::dims_text(p.torus) + " has " + std::to_string(product) +
                             " ranks, not " + std::to_string(p.ranks),
                         "the torus dimensions must multiply to the number of ranks");
  }
  if (p.ranks_per_node < 1 || p.ranks % p.ranks_per_node != 0) {
    return invalid_input("ranks_per_node " + std::to_string(p.ranks_per_node) + " does not divide " +
                             std::to_string(p.ranks) + " ranks",
                         "nodes hold ranks_per_node consecutive ranks; pick a divisor of the rank count");
  }
  if (p.ports < 1) {
    return invalid_input("ports must be at least 1, got " + std::to_string(p.ports),
                         "use 1, or 2 per torus dimension");
  }
  if (static_cast<int64_t>(p.ranks) * p.ports > INT32_MAX) {
    return invalid_input(
        std::to_string(p.ranks) + " ranks x " + std::to_string(p.ports) + " ports are too many blocks",
        "block ids are 32-bit; use fewer ranks or ports");
  }
  if (p.collective == Collective::kAlltoall && static_cast<int64_t>(p.ranks) * p.ranks > INT32_MAX) {
    return invalid_input("alltoall on " + std::to_string(p.ranks) + " ranks has too many blocks",
                         "use at most 46340 ranks");
  }
  return {};
}

}  // namespace

std::vector<std::string> algorithm_names(Collective collective) {
  std::vector<std::string> names;
  for (const Entry& e : registry()) {
    if (std::find(e.collectives.begin(), e.collectives.end(), collective) != e.collectives.end()) {
      names.emplace_back(e.name);
    }
  }
  return names;
}

std::vector<std::string> all_algorithm_names() {
  std::vector<std::string> names;
  for (const Entry& e : registry()) names.emplace_back(e.name);
  return names;
}

bool supports_multiport(std::string_view name) {
  return name == "swing-lat" || name == "swing-bw" || name == "bucket";
}

Result<std::unique_ptr<Algorithm>> make_algorithm(std::string_view name, const AlgorithmParams& params) {
  const std::vector<std::string> available = algorithm_names(params.collective);
  const std::string list = join(available, ", ");
  const std::string coll(to_string(params.collective));
  const auto it =
      std::find_if(registry().begin(), registry().end(), [&](const Entry& e) { return e.name == name; });
  if (it == registry().end()) {
    std::string hint = did_you_mean(name, available);
    hint += (hint.empty() ? "" : " ") + std::string(coll) + " algorithms: " + list;
    return not_found("unknown algorithm '" + std::string(name) + "'", hint);
  }
  if (std::find(it->collectives.begin(), it->collectives.end(), params.collective) == it->collectives.end()) {
    return unsupported("algorithm '" + std::string(name) + "' does not implement " + coll,
                       coll + " algorithms: " + list);
  }
  MLSYS_RETURN_IF_ERROR(check_params(params));
  return it->make(params);
}

Result<std::vector<int>> parse_torus_dims(std::string_view text) {
  std::vector<int> dims;
  const auto bad = [&] {
    return invalid_input("bad torus '" + std::string(text) + "'",
                         "write dimensions separated by 'x', e.g. 8x8 or 4x4x4");
  };
  if (text.empty()) return bad();
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find_first_of("x,", pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view part = text.substr(pos, end - pos);
    int value = 0;
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || value < 1) return bad();
    dims.push_back(value);
    pos = end + 1;
  }
  return dims;
}

Result<RankSchedule> port_schedule(const Algorithm& algorithm, int rank, int port) {
  const int ports = algorithm.params().ports;
  if (rank < 0 || rank >= algorithm.ranks()) {
    return invalid_input("rank " + std::to_string(rank) + " is out of range",
                         "ranks are 0.." + std::to_string(algorithm.ranks() - 1));
  }
  if (port < 0 || port >= ports) {
    return invalid_input(
        "port " + std::to_string(port) + " is out of range",
        "this algorithm runs " + std::to_string(ports) + " port(s): 0.." + std::to_string(ports - 1));
  }
  RankSchedule s = algorithm.schedule_for(rank);
  const auto narrow = [&](std::vector<Transfer>& transfers) {
    std::vector<Transfer> kept;
    for (Transfer& t : transfers) {
      std::erase_if(t.blocks, [&](int32_t b) { return b % ports != port; });
      if (!t.blocks.empty()) kept.push_back(std::move(t));
    }
    transfers = std::move(kept);
  };
  for (Step& step : s.steps) {
    narrow(step.sends);
    narrow(step.recvs);
  }
  return s;
}

}  // namespace mlsys::coll
