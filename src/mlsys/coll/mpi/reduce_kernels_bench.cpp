// Reduction kernels: ours against the MPI library's own (MPI_Reduce_local applies an MPI_Op
// locally with the library's kernels) on the same buffers, in the same run. bf16 has no MPI
// peer; it is timed beside our f32 kernel on the same element count.
//
//   ./build/bench/coll_mpi_kernels_bench            (runs as a one-rank MPI singleton)

#include <benchmark/benchmark.h>
#include <mpi.h>

#include <cstdint>
#include <vector>

#include "mlsys/coll/mpi/reduce_kernels.h"

namespace mlsys::coll {
namespace {

template <class T>
void fill(std::vector<T>& v, int seed) {
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>((i * 7 + static_cast<size_t>(seed)) % 100);
}

void set_bytes(benchmark::State& state, int64_t n, int64_t element) {
  // Bytes the kernel streams: read both inputs, write the output.
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * n * element * 3);
}

// Our kernel on n elements of T: acc = op(acc, in).
template <class T>
void ours(benchmark::State& state, DataType type, ReduceOp op) {
  const int64_t n = state.range(0);
  std::vector<T> acc(static_cast<size_t>(n));
  std::vector<T> in(static_cast<size_t>(n));
  fill(acc, 1);
  fill(in, 2);
  for (auto _ : state) {
    reduce_into(type, op, acc.data(), in.data(), n);
    benchmark::DoNotOptimize(acc.data());
  }
  set_bytes(state, n, sizeof(T));
}

// The MPI library's kernel on the same buffers.
template <class T>
void mpi_reduce_local(benchmark::State& state, MPI_Datatype type, MPI_Op op) {
  const int64_t n = state.range(0);
  std::vector<T> acc(static_cast<size_t>(n));
  std::vector<T> in(static_cast<size_t>(n));
  fill(acc, 1);
  fill(in, 2);
  for (auto _ : state) {
    MPI_Reduce_local(in.data(), acc.data(), static_cast<int>(n), type, op);
    benchmark::DoNotOptimize(acc.data());
  }
  set_bytes(state, n, sizeof(T));
}

void BM_OursSumBf16(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<uint16_t> acc(static_cast<size_t>(n));
  std::vector<uint16_t> in(static_cast<size_t>(n));
  for (size_t i = 0; i < acc.size(); ++i) {
    acc[i] = float_to_bf16(static_cast<float>(i % 100));
    in[i] = float_to_bf16(static_cast<float>(i % 7));
  }
  for (auto _ : state) {
    reduce_into(DataType::kBF16, ReduceOp::kSum, acc.data(), in.data(), n);
    benchmark::DoNotOptimize(acc.data());
  }
  set_bytes(state, n, 2);
}

// 16 KiB (L1), 1 MiB (L2/L3) and 16 MiB (memory) of f32; ours and MPI's side by side.
void register_benchmarks() {
  const auto sizes = [](benchmark::internal::Benchmark* b) { b->Arg(4 << 10)->Arg(256 << 10)->Arg(4 << 20); };
  sizes(benchmark::RegisterBenchmark("Ours/SumF32", ours<float>, DataType::kF32, ReduceOp::kSum));
  sizes(benchmark::RegisterBenchmark("MpiReduceLocal/SumF32", mpi_reduce_local<float>, MPI_FLOAT, MPI_SUM));
  sizes(benchmark::RegisterBenchmark("Ours/MaxF64", ours<double>, DataType::kF64, ReduceOp::kMax));
  sizes(benchmark::RegisterBenchmark("MpiReduceLocal/MaxF64", mpi_reduce_local<double>, MPI_DOUBLE, MPI_MAX));
  sizes(benchmark::RegisterBenchmark("Ours/SumBf16", BM_OursSumBf16));
}

}  // namespace

}  // namespace mlsys::coll

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  mlsys::coll::register_benchmarks();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  MPI_Finalize();
  return 0;
}
