// The MPI executor under mpirun (CTest runs this binary with P = 1, 2, 3, 4, 5, 8): every
// algorithm of the registry, every dtype and operator, awkward counts, chunking, in place,
// reduce-scatter and allgather, each checked against a serial reduction of the same
// deterministic inputs. Also: a schedule whose sends have no matching receive is refused
// before any message is sent (an error, not a hang).

#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "mlsys/coll/algorithms.h"
#include "mlsys/coll/mpi/algorithm_choice.h"
#include "mlsys/coll/mpi/mpi_executor.h"
#include "mlsys/core/rng.h"

namespace mlsys::coll {
namespace {

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int p = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &p);
  return p;
}

// A communicator for one test, freed at the end of the test.
class DupComm {
 public:
  DupComm() {
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  }
  ~DupComm() { MPI_Comm_free(&comm_); }
  DupComm(const DupComm&) = delete;
  DupComm& operator=(const DupComm&) = delete;
  MPI_Comm get() const { return comm_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

// Element i of rank r's input: small integers, so every reduction order gives the same float.
// bf16 holds integers exactly only up to 256, so its sums over 16 ranks stay within +-16 each.
double input_value(DataType t, int r, int64_t i, ReduceOp op) {
  const uint64_t h = mix64((static_cast<uint64_t>(r) << 40) ^ static_cast<uint64_t>(i));
  if (op == ReduceOp::kProd) {
    const uint64_t k = h % 8;
    return k == 0 ? 2.0 : k == 1 ? -1.0 : 1.0;
  }
  const int64_t half_range = t == DataType::kBF16 ? 16 : 100;
  return static_cast<double>(static_cast<int64_t>(h % static_cast<uint64_t>(2 * half_range + 1)) -
                             half_range);
}

void store(DataType t, void* base, int64_t i, double v) {
  switch (t) {
    case DataType::kF32:
      static_cast<float*>(base)[i] = static_cast<float>(v);
      return;
    case DataType::kF64:
      static_cast<double*>(base)[i] = v;
      return;
    case DataType::kI32:
      static_cast<int32_t*>(base)[i] = static_cast<int32_t>(v);
      return;
    case DataType::kI64:
      static_cast<int64_t*>(base)[i] = static_cast<int64_t>(v);
      return;
    case DataType::kBF16:
      static_cast<uint16_t*>(base)[i] = float_to_bf16(static_cast<float>(v));
      return;
  }
}

double combine(ReduceOp op, double a, double b) {
  switch (op) {
    case ReduceOp::kSum:
      return a + b;
    case ReduceOp::kMax:
      return std::max(a, b);
    case ReduceOp::kMin:
      return std::min(a, b);
    case ReduceOp::kProd:
      return a * b;
  }
  return 0;
}

// The serial reference: element i reduced over ranks 0..P-1 in order, in double (exact for
// these inputs), then stored as the dtype.
double expected_value(DataType t, int p, int64_t i, ReduceOp op) {
  double acc = input_value(t, 0, i, op);
  for (int r = 1; r < p; ++r) acc = combine(op, acc, input_value(t, r, i, op));
  return acc;
}

std::vector<std::byte> make_input(DataType t, int r, int64_t count, ReduceOp op, int64_t first = 0) {
  std::vector<std::byte> v(static_cast<size_t>(count * element_size(t)) + 1);
  for (int64_t i = 0; i < count; ++i) store(t, v.data(), i, input_value(t, r, first + i, op));
  return v;
}

// Number of elements of `got` (elements [first, first + count) of the reduction) that differ;
// every rank calls it, and the total over ranks is returned so all ranks see the same verdict.
int64_t count_wrong(DataType t, ReduceOp op, const void* got, int64_t count, int64_t first = 0) {
  const int p = world_size();
  int64_t wrong = 0;
  std::vector<std::byte> want(static_cast<size_t>(element_size(t)));
  for (int64_t i = 0; i < count; ++i) {
    store(t, want.data(), 0, expected_value(t, p, first + i, op));
    if (std::memcmp(want.data(), static_cast<const std::byte*>(got) + i * element_size(t),
                    static_cast<size_t>(element_size(t))) != 0) {
      ++wrong;
    }
  }
  int64_t total = 0;
  MPI_Allreduce(&wrong, &total, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  return total;
}

std::unique_ptr<MpiExecutor> executor_for(const std::string& name, Collective c, MPI_Comm comm,
                                          ExecutorOptions options = {}) {
  auto choice = choose_algorithm(name, {.collective = c, .ranks = world_size()});
  if (!choice) {
    ADD_FAILURE() << name << ": " << choice.error().to_string();
    return nullptr;
  }
  auto ex = MpiExecutor::create(std::move(choice->algorithm), comm, options);
  if (!ex) {
    ADD_FAILURE() << name << ": " << ex.error().to_string();
    return nullptr;
  }
  return std::move(*ex);
}

const std::vector<int64_t>& awkward_counts() {
  static const std::vector<int64_t> counts = {0, 1, 2, 7, 13, 64, 1000, 10007};
  return counts;
}

TEST(MpiExecutor, EveryAllreduceAlgorithmMatchesSerialSum) {
  DupComm comm;
  for (const std::string& name : algorithm_names(Collective::kAllreduce)) {
    auto ex = executor_for(name, Collective::kAllreduce, comm.get());
    ASSERT_NE(ex, nullptr);
    for (int64_t n : awkward_counts()) {
      auto in = make_input(DataType::kF32, world_rank(), n, ReduceOp::kSum);
      std::vector<std::byte> out(in.size());
      ASSERT_TRUE(ex->allreduce(in.data(), out.data(), n, DataType::kF32, ReduceOp::kSum));
      EXPECT_EQ(count_wrong(DataType::kF32, ReduceOp::kSum, out.data(), n), 0)
          << name << " (ran " << ex->algorithm().name() << ") count " << n;
    }
  }
}

TEST(MpiExecutor, EveryDtypeAndOperator) {
  DupComm comm;
  for (const std::string& name : {std::string("ring"), std::string("swing-bw"), std::string("recdoub")}) {
    auto ex = executor_for(name, Collective::kAllreduce, comm.get());
    ASSERT_NE(ex, nullptr);
    for (DataType t : {DataType::kF32, DataType::kF64, DataType::kI32, DataType::kI64, DataType::kBF16}) {
      for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMax, ReduceOp::kMin, ReduceOp::kProd}) {
        const int64_t n = 37;
        auto in = make_input(t, world_rank(), n, op);
        std::vector<std::byte> out(in.size());
        ASSERT_TRUE(ex->allreduce(in.data(), out.data(), n, t, op));
        EXPECT_EQ(count_wrong(t, op, out.data(), n), 0)
            << name << " " << to_string(t) << " " << to_string(op);
      }
    }
  }
}

TEST(MpiExecutor, OneMessagePerBlockRunGivesTheSameResult) {
  // single_message = 0: every transfer goes as one message per run of consecutive blocks, sent
  // unpacked, copies received in place (the large-vector path, here on small vectors).
  DupComm comm;
  for (const std::string& name : algorithm_names(Collective::kAllreduce)) {
    auto ex =
        executor_for(name, Collective::kAllreduce, comm.get(), {.chunk = KiB(1), .single_message = B(0)});
    ASSERT_NE(ex, nullptr);
    for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{7}, int64_t{13}, int64_t{300}, int64_t{1000}}) {
      auto in = make_input(DataType::kI32, world_rank(), n, ReduceOp::kSum);
      std::vector<std::byte> out(in.size());
      ASSERT_TRUE(ex->allreduce(in.data(), out.data(), n, DataType::kI32, ReduceOp::kSum));
      EXPECT_EQ(count_wrong(DataType::kI32, ReduceOp::kSum, out.data(), n), 0) << name << " count " << n;
    }
  }
  for (Collective c : {Collective::kReduceScatter, Collective::kAllgather}) {
    for (const std::string& name : algorithm_names(c)) {
      auto ex = executor_for(name, c, comm.get(), {.chunk = KiB(1), .single_message = B(0)});
      ASSERT_NE(ex, nullptr);
      const int p = world_size();
      const int64_t n = 1001;
      auto in = make_input(DataType::kF32, world_rank(), n * p, ReduceOp::kSum);
      std::vector<std::byte> out(static_cast<size_t>(n * p * 4) + 1);
      if (c == Collective::kReduceScatter) {
        ASSERT_TRUE(ex->reduce_scatter_block(in.data(), out.data(), n, DataType::kF32, ReduceOp::kSum));
        EXPECT_EQ(count_wrong(DataType::kF32, ReduceOp::kSum, out.data(), n, world_rank() * n), 0) << name;
      } else {
        // Rank r contributes elements [r n, (r+1) n) of rank 0's input: the gathered vector is
        // rank 0's input, which is the "reduction" of one rank.
        auto whole = make_input(DataType::kF32, 0, n * p, ReduceOp::kSum);
        ASSERT_TRUE(ex->allgather(whole.data() + world_rank() * n * 4, out.data(), n, DataType::kF32));
        EXPECT_EQ(std::memcmp(out.data(), whole.data(), static_cast<size_t>(n * p * 4)), 0) << name;
      }
    }
  }
}

TEST(MpiExecutor, ButterflyStepsSendContiguousBlocks) {
  // With the executor's block placement, recursive halving and Swing on a power of two send
  // every step as one unpacked message, however large the vector.
  const int p = world_size();
  if ((p & (p - 1)) != 0 || p < 2) GTEST_SKIP() << "needs a power of two";
  DupComm comm;
  for (const std::string& name : {std::string("rabenseifner"), std::string("swing-bw")}) {
    auto ex = executor_for(name, Collective::kAllreduce, comm.get(), {.single_message = B(0)});
    ASSERT_NE(ex, nullptr);
    const int64_t n = 4096 * p;
    auto in = make_input(DataType::kF32, world_rank(), n, ReduceOp::kSum);
    std::vector<std::byte> out(in.size());
    ASSERT_TRUE(ex->allreduce(in.data(), out.data(), n, DataType::kF32, ReduceOp::kSum));
    EXPECT_EQ(count_wrong(DataType::kF32, ReduceOp::kSum, out.data(), n), 0) << name;
    EXPECT_EQ(ex->stats().bytes_packed, B(0)) << name;
    int log2p = 0;
    while ((1 << log2p) < p) ++log2p;
    EXPECT_EQ(ex->stats().messages_sent, 2 * log2p) << name;
  }
}

TEST(MpiExecutor, InPlaceMatchesOutOfPlace) {
  DupComm comm;
  auto ex = executor_for("swing-bw", Collective::kAllreduce, comm.get());
  ASSERT_NE(ex, nullptr);
  const int64_t n = 1009;
  auto buf = make_input(DataType::kI64, world_rank(), n, ReduceOp::kSum);
  ASSERT_TRUE(ex->allreduce(buf.data(), buf.data(), n, DataType::kI64, ReduceOp::kSum));
  EXPECT_EQ(count_wrong(DataType::kI64, ReduceOp::kSum, buf.data(), n), 0);
}

TEST(MpiExecutor, SmallChunksGiveTheSameResult) {
  DupComm comm;
  // 72-byte chunks: 18 floats per run of the schedule, so 1009 elements take 57 chunks and
  // most blocks hold a handful of elements or none.
  for (const std::string& name : {std::string("ring"), std::string("rabenseifner")}) {
    auto ex = executor_for(name, Collective::kAllreduce, comm.get(), {.chunk = B(72)});
    ASSERT_NE(ex, nullptr);
    const int64_t n = 1009;
    auto in = make_input(DataType::kF32, world_rank(), n, ReduceOp::kMax);
    std::vector<std::byte> out(in.size());
    ASSERT_TRUE(ex->allreduce(in.data(), out.data(), n, DataType::kF32, ReduceOp::kMax));
    EXPECT_EQ(count_wrong(DataType::kF32, ReduceOp::kMax, out.data(), n), 0) << name;
    EXPECT_LE(ex->scratch_bytes(), B(2 * 72)) << "scratch grows with the chunk, not the vector";
  }
}

TEST(MpiExecutor, ReduceScatterBlockGivesEachRankItsSegment) {
  DupComm comm;
  const int p = world_size();
  for (const std::string& name : algorithm_names(Collective::kReduceScatter)) {
    auto ex = executor_for(name, Collective::kReduceScatter, comm.get(), {.chunk = B(256)});
    ASSERT_NE(ex, nullptr);
    for (int64_t rc : {int64_t{0}, int64_t{1}, int64_t{5}, int64_t{333}}) {
      auto in = make_input(DataType::kI32, world_rank(), rc * p, ReduceOp::kSum);
      std::vector<std::byte> out(static_cast<size_t>(rc * 4) + 1);
      ASSERT_TRUE(ex->reduce_scatter_block(in.data(), out.data(), rc, DataType::kI32, ReduceOp::kSum));
      EXPECT_EQ(count_wrong(DataType::kI32, ReduceOp::kSum, out.data(), rc, world_rank() * rc), 0)
          << name << " recv_count " << rc;
    }
  }
}

TEST(MpiExecutor, AllgatherCollectsEverySegment) {
  DupComm comm;
  const int p = world_size();
  const int r = world_rank();
  for (const std::string& name : algorithm_names(Collective::kAllgather)) {
    auto ex = executor_for(name, Collective::kAllgather, comm.get(), {.chunk = B(256)});
    ASSERT_NE(ex, nullptr);
    for (bool in_place : {false, true}) {
      const int64_t sc = 77;
      std::vector<double> mine(static_cast<size_t>(sc));
      for (int64_t i = 0; i < sc; ++i) mine[static_cast<size_t>(i)] = r * 1000.0 + static_cast<double>(i);
      std::vector<double> all(static_cast<size_t>(sc * p), -1.0);
      if (in_place) std::copy(mine.begin(), mine.end(), all.begin() + r * sc);
      ASSERT_TRUE(ex->allgather(in_place ? nullptr : mine.data(), all.data(), sc, DataType::kF64));
      int64_t wrong = 0;
      for (int q = 0; q < p; ++q) {
        for (int64_t i = 0; i < sc; ++i)
          wrong += all[static_cast<size_t>(q * sc + i)] != q * 1000.0 + static_cast<double>(i);
      }
      EXPECT_EQ(wrong, 0) << name << (in_place ? " in place" : "");
    }
  }
}

TEST(MpiExecutor, RefusesAlgorithmBuiltForAnotherSize) {
  DupComm comm;
  auto algo = make_algorithm("ring", {.collective = Collective::kAllreduce, .ranks = world_size() + 1});
  ASSERT_TRUE(algo);
  auto ex = MpiExecutor::create(std::move(*algo), comm.get());
  ASSERT_FALSE(ex);
  EXPECT_NE(ex.error().message().find("communicator has"), std::string::npos);
}

// A ring whose last step's receive is missing on rank 0: sends would wait forever.
class BrokenRing : public Algorithm {
 public:
  explicit BrokenRing(int p) : Algorithm({.collective = Collective::kAllreduce, .ranks = p}) {}
  std::string name() const override { return "broken-ring"; }
  int64_t block_count() const override { return 1; }
  RankSchedule schedule_for(int rank) const override {
    RankSchedule s{.rank = rank};
    const int p = ranks();
    Step step;
    step.sends.push_back({.peer = (rank + 1) % p, .blocks = {0}});
    if (rank != 0) step.recvs.push_back({.peer = (rank + p - 1) % p, .blocks = {0}});
    s.steps.push_back(step);
    return s;
  }
};

TEST(MpiExecutor, InconsistentScheduleIsAnErrorNotAHang) {
  if (world_size() < 2) GTEST_SKIP() << "needs two ranks";
  DupComm comm;
  auto ex = MpiExecutor::create(std::make_unique<BrokenRing>(world_size()), comm.get());
  // Every rank sees the problem, not only rank P-1 whose send rank 0 does not receive.
  ASSERT_FALSE(ex);
  EXPECT_NE(ex.error().message().find("inconsistent"), std::string::npos);
}

TEST(MpiExecutor, WrongCollectiveIsRefused) {
  DupComm comm;
  auto ex = executor_for("ring", Collective::kAllgather, comm.get());
  ASSERT_NE(ex, nullptr);
  float x = 1.0f;
  EXPECT_FALSE(ex->allreduce(&x, &x, 1, DataType::kF32, ReduceOp::kSum));
}

// Failures on ranks other than 0 are printed with their rank; the rest stays quiet.
class RankFailurePrinter : public testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const testing::TestPartResult& r) override {
    if (r.failed())
      std::cerr << "[rank " << rank_ << "] " << r.file_name() << ":" << r.line_number() << ": " << r.summary()
                << "\n";
  }

 private:
  int rank_;
};

}  // namespace
}  // namespace mlsys::coll

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  testing::InitGoogleTest(&argc, argv);
  const int rank = mlsys::coll::world_rank();
  if (rank != 0) {
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    // gtest's listener list owns raw pointers: hand over and take back through unique_ptr.
    std::unique_ptr<testing::TestEventListener> quiet(listeners.Release(listeners.default_result_printer()));
    listeners.Append(std::make_unique<mlsys::coll::RankFailurePrinter>(rank).release());
  }
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any_failed;
}
