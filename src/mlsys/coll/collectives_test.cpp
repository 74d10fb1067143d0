// Every algorithm of every collective, run by the reference executor on random integers, gives
// exactly the collective's result: P = 1..16 (primes and non-powers of two included), tori,
// ports, node sizes, vector lengths 0, 1, 7, 13 and longer than the block count, and all four
// reductions.

#include <gtest/gtest.h>

#include <string>

#include "mlsys/coll/algorithms.h"
#include "mlsys/coll/reference_executor.h"
#include "mlsys/core/rng.h"

namespace mlsys::coll {
namespace {

struct Combo {
  Collective collective;
  std::string algo;
};

std::vector<Combo> all_combos() {
  std::vector<Combo> out;
  for (Collective c :
       {Collective::kAllreduce, Collective::kReduceScatter, Collective::kAllgather, Collective::kAlltoall}) {
    for (const std::string& name : algorithm_names(c)) out.push_back({c, name});
  }
  return out;
}

// The parameter sets an algorithm is run on.
std::vector<AlgorithmParams> shapes(const Combo& combo) {
  std::vector<AlgorithmParams> out;
  const auto add = [&](std::vector<int> torus, int ports = 1, int per_node = 1) {
    int ranks = 1;
    for (int d : torus) ranks *= d;
    out.push_back({.collective = combo.collective,
                   .ranks = ranks,
                   .torus = std::move(torus),
                   .ports = ports,
                   .ranks_per_node = per_node});
  };
  const bool torus_aware = combo.algo == "bucket" || combo.algo == "swing-lat" || combo.algo == "swing-bw" ||
                           combo.algo == "recdoub" || combo.algo == "rabenseifner";
  const bool per_node = combo.algo == "hierarchical" || combo.algo == "2dh" || combo.algo == "pipe-a2a";
  const bool multiport = combo.algo == "bucket" || combo.algo == "swing-lat" || combo.algo == "swing-bw";
  for (int p = 1; p <= 16; ++p) {
    if (!per_node) {
      add({p});
      continue;
    }
    for (int g = 1; g <= p; ++g) {
      if (p % g == 0) add({p}, 1, g);
    }
  }
  if (torus_aware) {
    for (const auto& t : std::vector<std::vector<int>>{{2, 2},
                                                       {2, 4},
                                                       {4, 2},
                                                       {4, 4},
                                                       {2, 2, 2},
                                                       {8, 8},
                                                       {2, 3},
                                                       {3, 5},
                                                       {6, 4},
                                                       {2, 6},
                                                       {1, 8},
                                                       {4, 1, 2},
                                                       {26},
                                                       {10, 2}}) {
      add(t);
    }
  }
  if (multiport) {
    add({8}, 2);
    add({4, 4}, 2);
    add({4, 4}, 4);
    add({2, 2, 2}, 6);
    add({6, 4}, 3);
    add({3, 5}, 4);
  }
  return out;
}

// swing-bw refuses odd dimension sizes other than 1; every other combination must build.
bool expected_to_build(const Combo& combo, const AlgorithmParams& p) {
  if (combo.algo != "swing-bw") return true;
  const std::vector<int> dims = p.torus.empty() ? std::vector<int>{p.ranks} : p.torus;
  for (int d : dims) {
    if (d > 1 && d % 2 == 1) return false;
  }
  return true;
}

std::vector<std::vector<int64_t>> random_buffers(RngStream& rng, int ranks, int64_t n, ReduceOp op) {
  std::vector<std::vector<int64_t>> v(static_cast<size_t>(ranks),
                                      std::vector<int64_t>(static_cast<size_t>(n)));
  const int64_t span = op == ReduceOp::kProd ? 3 : 1000;
  for (auto& rank : v) {
    for (auto& x : rank) x = rng.uniform_int(-span, span);
  }
  return v;
}

void check_result(const Algorithm& a, ReduceOp op, const std::vector<std::vector<int64_t>>& in,
                  const std::vector<std::vector<int64_t>>& out) {
  const int p = a.ranks();
  const auto n = static_cast<int64_t>(in[0].size());
  const std::vector<int64_t> off = block_offsets(n, a.block_count());
  for (int64_t b = 0; b < a.block_count(); ++b) {
    for (int64_t e = off[static_cast<size_t>(b)]; e < off[static_cast<size_t>(b) + 1]; ++e) {
      const auto ue = static_cast<size_t>(e);
      switch (a.params().collective) {
        case Collective::kAllreduce:
        case Collective::kReduceScatter: {
          int64_t want = in[0][ue];
          for (int r = 1; r < p; ++r) want = reduce_values(op, want, in[static_cast<size_t>(r)][ue]);
          if (a.params().collective == Collective::kAllreduce) {
            for (int r = 0; r < p; ++r)
              ASSERT_EQ(out[static_cast<size_t>(r)][ue], want) << "rank " << r << " elem " << e;
          } else {
            const int owner = a.owner_of_block(b);
            ASSERT_EQ(out[static_cast<size_t>(owner)][ue], want) << "owner " << owner << " block " << b;
          }
          break;
        }
        case Collective::kAllgather: {
          const int owner = a.owner_of_block(b);
          for (int r = 0; r < p; ++r) {
            ASSERT_EQ(out[static_cast<size_t>(r)][ue], in[static_cast<size_t>(owner)][ue])
                << "rank " << r << " block " << b;
          }
          break;
        }
        case Collective::kAlltoall: {
          const int src = static_cast<int>(b / p);
          const int dst = static_cast<int>(b % p);
          ASSERT_EQ(out[static_cast<size_t>(dst)][ue], in[static_cast<size_t>(src)][ue]) << "block " << b;
          break;
        }
      }
    }
  }
}

class EveryAlgorithm : public testing::TestWithParam<Combo> {};

TEST_P(EveryAlgorithm, ProducesTheExactCollectiveResult) {
  const Combo combo = GetParam();
  RngStream rng(7, combo.algo + std::string(to_string(combo.collective)));
  int built = 0;
  for (const AlgorithmParams& p : shapes(combo)) {
    SCOPED_TRACE("ranks " + std::to_string(p.ranks) + " torus " + testing::PrintToString(p.torus) +
                 " ports " + std::to_string(p.ports) + " per node " + std::to_string(p.ranks_per_node));
    auto algo = make_algorithm(combo.algo, p);
    ASSERT_EQ(static_cast<bool>(algo), expected_to_build(combo, p)) << (algo ? "" : algo.error().to_string());
    if (!algo) continue;
    ++built;
    const Algorithm& a = **algo;
    ASSERT_TRUE(validate_schedules(a));
    const std::vector<ReduceOp> ops =
        combo.collective == Collective::kAllreduce || combo.collective == Collective::kReduceScatter
            ? std::vector<ReduceOp>{ReduceOp::kSum, ReduceOp::kMax, ReduceOp::kMin, ReduceOp::kProd}
            : std::vector<ReduceOp>{ReduceOp::kSum};
    for (ReduceOp op : ops) {
      for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{7}, int64_t{13}, 2 * a.block_count() + 3}) {
        SCOPED_TRACE(std::string(to_string(op)) + " n=" + std::to_string(n));
        const auto in = random_buffers(rng, p.ranks, n, op);
        auto out = run_reference(a, in, op);
        ASSERT_TRUE(out) << out.error().to_string();
        check_result(a, op, in, *out);
      }
    }
  }
  EXPECT_GT(built, 10);
}

INSTANTIATE_TEST_SUITE_P(Collectives, EveryAlgorithm, testing::ValuesIn(all_combos()),
                         [](const testing::TestParamInfo<Combo>& info) {
                           std::string name =
                               std::string(to_string(info.param.collective)) + "_" + info.param.algo;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(EveryAlgorithm, AllreduceOfDoublesIsExactOnIntegerValues) {
  for (const std::string& name : algorithm_names(Collective::kAllreduce)) {
    auto algo = make_algorithm(name, {.ranks = 12, .ranks_per_node = 3});
    ASSERT_TRUE(algo) << name;
    std::vector<std::vector<double>> in(12, std::vector<double>(10));
    for (int r = 0; r < 12; ++r) {
      for (int e = 0; e < 10; ++e) in[static_cast<size_t>(r)][static_cast<size_t>(e)] = r * 10 + e;
    }
    auto out = run_reference(**algo, in, ReduceOp::kSum);
    ASSERT_TRUE(out) << name;
    for (const auto& v : *out) {
      for (int e = 0; e < 10; ++e) EXPECT_EQ(v[static_cast<size_t>(e)], 660.0 + 12 * e) << name;
    }
  }
}

}  // namespace
}  // namespace mlsys::coll
